"""The integration tier: every function's handler runs in-process under moto, fed API Gateway REST
proxy events built from the samples in events/. The table and the function environment come from
template.yaml itself (no second schema); the handler modules are loaded from the template's
CodeUri / Handler under unique names, as the local gateway loads them (no sys.path hacks)."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import importlib.util
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, cached_property
from types import ModuleType
from typing import Any, get_args

import boto3
import botocore.session
import pytest
from botocore.loaders import Loader, create_loader
from moto import mock_aws as moto_mock_aws

from quantlink import aws
from quantlink.dal.codec import to_python
from quantlink.throttling import RateName, TerminalRate
from quantlink_local.gateway import LambdaContext
from quantlink_local.template import ACCOUNT_ID, REPO_ROOT, FunctionSpec, Resolver, Template

REGION = "us-east-1"
STACK_NAME = "quantlink-it"
EVENTS_DIR = REPO_ROOT / "events"
# What `!Ref UserPool` / `!Ref UserPoolClient` resolve to: the owner API only echoes them (/api/config).
COGNITO_PHYSICAL_IDS = {"UserPool": f"{REGION}_IntegTest1", "UserPoolClient": "1example23456789integtest0"}
# What `!Ref PushApi` resolves to: the webhook's PostToConnection endpoint (moto's management API).
PUSH_API_ID = "integpush1"
_UNCHANGED: Any = object()
WEB_URL = "https://app.quantlink.example"  # what `!GetAtt WebBucket.WebsiteURL` resolves to here


# ---- the template ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def template() -> Template:
    return Template.load()


def load_handler_module(spec: FunctionSpec) -> ModuleType:
    """A fresh import of the function's handler module from its CodeUri (one execution environment)."""
    module_name = spec.handler.rpartition(".")[0]
    path = spec.code_dir / f"{module_name.replace('.', '/')}.py"
    loader_spec = importlib.util.spec_from_file_location(f"_integration_{spec.logical_id}", path)
    assert loader_spec is not None and loader_spec.loader is not None
    module = importlib.util.module_from_spec(loader_spec)
    loader_spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Function:
    spec: FunctionSpec
    module: ModuleType

    @property
    def name(self) -> str:
        """The events/ folder of this function: its CodeUri folder name (functions/webhook -> webhook)."""
        return self.spec.code_dir.name

    def handler(self) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        handler: Callable[[dict[str, Any], Any], dict[str, Any]] = getattr(
            self.module, self.spec.handler.rpartition(".")[2]
        )
        return handler

    def clear_caches(self) -> None:
        """Forget the cached factories (settings, store, queues, dependencies): a cold start."""
        for value in vars(self.module).values():
            if (
                callable(getattr(value, "cache_clear", None))
                and getattr(value, "__module__", None) == self.module.__name__
            ):
                value.cache_clear()


@pytest.fixture(scope="session")
def functions(template: Template) -> dict[str, Function]:
    loaded = [Function(spec, load_handler_module(spec)) for spec in template.functions()]
    return {function.name: function for function in loaded}


def table_arguments(properties: Mapping[str, Any]) -> dict[str, Any]:
    """AWS::DynamoDB::Table properties (resolved) -> CreateTable arguments."""
    args = {
        key: properties[key]
        for key in (
            "TableName",
            "AttributeDefinitions",
            "KeySchema",
            "BillingMode",
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
            "ProvisionedThroughput",
            "StreamSpecification",
        )
        if key in properties
    }
    # SSESpecification is left out: encryption at rest is invisible to the functions, and moto pays
    # an RSA key generation (its KMS key) for every table that asks for it.
    return args


# ---- the moto account -----------------------------------------------------------------------------


_THROTTLE_COUNTERS = frozenset(
    attribute
    for limit in (TerminalRate(name=name, limit=1, window_seconds=1) for name in get_args(RateName))
    for attribute in (limit.window_attribute, limit.count_attribute)
)


@dataclass
class Stack:
    """What a test inspects directly: the table and the terminal queues, in the moto account."""

    table_name: str
    queue_name_prefix: str
    environment: dict[str, str]
    session: boto3.session.Session

    @cached_property
    def dynamodb(self) -> Any:
        return self.session.client("dynamodb", region_name=REGION)

    @cached_property
    def sqs(self) -> Any:
        return self.session.client("sqs", region_name=REGION)

    def items(self, *, users: bool = False) -> list[dict[str, Any]]:
        """Every item, sorted by key. The user records every signed-in call creates on its caller's first
        call (not what the call did) are left out unless `users`, and so are the throttling counters every
        terminal call advances on its terminal's record (quantlink.throttling: bookkeeping of the call,
        not what it did)."""
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.table_name, "ConsistentRead": True}
        while True:
            page = self.dynamodb.scan(**kwargs)
            found.extend(
                {name: value for name, value in to_python(item).items() if name not in _THROTTLE_COUNTERS}
                for item in page.get("Items", [])
                if users or not item["pk"]["S"].startswith("USER#")
            )
            if "LastEvaluatedKey" not in page:
                return sorted(found, key=lambda item: (item["pk"], item["sk"]))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def item(self, pk: str, sk: str) -> dict[str, Any] | None:
        answer = self.dynamodb.get_item(
            TableName=self.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
        )
        return to_python(answer["Item"]) if "Item" in answer else None

    def items_under(self, pk: str, prefix: str = "") -> list[dict[str, Any]]:
        return [item for item in self.items() if item["pk"] == pk and item["sk"].startswith(prefix)]

    def signals(self, strategy_id: str) -> list[dict[str, Any]]:
        return [i for i in self.items_under(f"STRATEGY#{strategy_id}", "SIGNAL#") if "#D#" not in i["sk"]]

    def deliveries(self, strategy_id: str, signal_id: str | None = None) -> list[dict[str, Any]]:
        prefix = f"SIGNAL#{signal_id}#D#" if signal_id else "SIGNAL#"
        return [i for i in self.items_under(f"STRATEGY#{strategy_id}", prefix) if "#D#" in i["sk"]]

    def queue_url(self, terminal_id: str) -> str:
        url: str = self.sqs.get_queue_url(QueueName=f"{self.queue_name_prefix}-{terminal_id}.fifo")["QueueUrl"]
        return url

    def queue_exists(self, terminal_id: str) -> bool:
        names = self.sqs.list_queues(QueueNamePrefix=f"{self.queue_name_prefix}-{terminal_id}").get("QueueUrls", [])
        return bool(names)

    def queue_depth(self, terminal_id: str) -> int:
        """Messages in the queue, visible or in flight."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url(terminal_id),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def visible_messages(self, terminal_id: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url(terminal_id), AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def drain(self, terminal_id: str) -> list[dict[str, Any]]:
        """Receive (and delete) everything in a terminal's queue, with the FIFO attributes."""
        url = self.queue_url(terminal_id)
        messages: list[dict[str, Any]] = []
        while True:
            answer = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
            )
            batch = answer.get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            messages.extend(batch)


def function_environment(template: Template, resolver: Resolver) -> dict[str, str]:
    """The union of the functions' resolved environments (they share this process), plus the
    switches a test run wants: no metrics flush, no X-Ray."""
    environment: dict[str, str] = {}
    for spec in template.functions():
        for name, raw in spec.environment.items():
            resolved = str(resolver.resolve(raw))
            assert environment.get(name, resolved) == resolved, f"functions disagree on {name}"
            environment[name] = resolved
    environment.update({"POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_TRACE_DISABLED": "true"})
    return environment


@pytest.fixture(scope="session")
def botocore_loader() -> Loader:
    """One reader of botocore's JSON models for the whole run: a fresh boto3 session per test would
    parse them again (about a third of a second a test)."""
    return create_loader()


@pytest.fixture
def mock_aws(
    monkeypatch: pytest.MonkeyPatch, template: Template, functions: dict[str, Function], botocore_loader: Loader
) -> Iterator[Stack]:
    """A fresh moto account with the table from template.yaml, the functions' environment set, and
    every cached client and factory forgotten, so each test starts from a cold start inside moto."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)

    def session_sharing_models() -> boto3.session.Session:
        core = botocore.session.get_session()
        core.register_component("data_loader", botocore_loader)
        return boto3.session.Session(botocore_session=core)

    # Still a new session and new clients after every aws.reset(); only the parsed models are shared.
    monkeypatch.setattr(aws, "_session", cache(session_sharing_models))

    def forget_clients() -> None:
        aws.reset()
        for function in functions.values():
            function.clear_caches()

    with moto_mock_aws():
        forget_clients()
        physical_ids = {**COGNITO_PHYSICAL_IDS, "PushApi": PUSH_API_ID}

        def attribute(logical_id: str, name: str) -> str:
            if (logical_id, name) == ("Table", "Arn"):
                return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{physical_ids['Table']}"
            if (logical_id, name) == ("WebBucket", "WebsiteURL"):
                return WEB_URL
            raise KeyError(f"Fn::GetAtt {logical_id}.{name} is not needed by the integration tier")

        resolver = Resolver(
            template, region=REGION, stack_name=STACK_NAME, physical_ids=physical_ids, attributes=attribute
        )
        (table_logical_id,) = template.of_type("AWS::DynamoDB::Table")
        properties = resolver.resolve(template.resources[table_logical_id]["Properties"])
        session = session_sharing_models()
        dynamodb = session.client("dynamodb", region_name=REGION)
        dynamodb.create_table(**table_arguments(properties))
        if "TimeToLiveSpecification" in properties:
            dynamodb.update_time_to_live(
                TableName=properties["TableName"], TimeToLiveSpecification=properties["TimeToLiveSpecification"]
            )
        physical_ids[table_logical_id] = properties["TableName"]
        ses = session.client("ses", region_name=REGION)
        for identity in template.of_type("AWS::SES::EmailIdentity").values():
            ses.verify_email_identity(EmailAddress=resolver.resolve(identity["Properties"])["EmailIdentity"])

        environment = function_environment(template, resolver)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        yield Stack(properties["TableName"], environment["QUEUE_NAME_PREFIX"], environment, session)
        forget_clients()


# ---- events ---------------------------------------------------------------------------------------


def load_event(sample: str) -> dict[str, Any]:
    """events/<function>/<name>.json, e.g. load_event("webhook/signal")."""
    loaded: dict[str, Any] = json.loads((EVENTS_DIR / f"{sample}.json").read_text(encoding="utf-8"))
    return loaded


def sample_body(sample: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(load_event(sample)["body"])
    return body


def encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def build_event(
    sample: str,
    *,
    path_params: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = _UNCHANGED,
    headers: Mapping[str, str | None] | None = None,
    body: Any = _UNCHANGED,
    claims: Mapping[str, str] | None = _UNCHANGED,
    method: str | None = None,
    resource: str | None = None,
) -> dict[str, Any]:
    """A sample proxy event with overrides, kept self-consistent the way API Gateway sends it:
    path and requestContext.path follow the path parameters, multiValue* follow the single values.
    A header set to None is removed; bytes that are not UTF-8 travel base64-encoded."""
    event = copy.deepcopy(load_event(sample))
    context = event["requestContext"]
    if method is not None:
        event["httpMethod"] = context["httpMethod"] = method
    if resource is not None:
        event["resource"] = context["resourcePath"] = resource
    params = {**(event.get("pathParameters") or {}), **(path_params or {})}
    path = event["resource"]
    for name, value in params.items():
        path = path.replace(f"{{{name}}}", value)
    event["pathParameters"] = params or None
    event["path"] = path
    context["path"] = f"/{context['stage']}{path}"
    if query is not _UNCHANGED:
        event["queryStringParameters"] = dict(query) if query else None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    for name, value in (headers or {}).items():
        for existing in [k for k in event["headers"] if k.lower() == name.lower()]:
            del event["headers"][existing]
            event["multiValueHeaders"].pop(existing, None)
        if value is not None:
            event["headers"][name] = value
            event["multiValueHeaders"][name] = [value]
    if body is not _UNCHANGED:
        if body is None:
            event["body"], event["isBase64Encoded"] = None, False
        elif isinstance(body, bytes):
            try:
                event["body"], event["isBase64Encoded"] = body.decode("utf-8"), False
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
        elif isinstance(body, str):
            event["body"], event["isBase64Encoded"] = body, False
        else:
            event["body"], event["isBase64Encoded"] = encode(body).decode("utf-8"), False
    if claims is not _UNCHANGED:
        context["authorizer"] = {"claims": dict(claims)} if claims else None
    context["requestId"] = str(uuid.uuid4())
    return event


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def body(self) -> Any:
        return json.loads(self.text) if self.text else None

    def error_code(self) -> str:
        code: str = self.body["code"]
        return code


# ---- the driver -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StrategyCreds:
    strategy_id: str
    token: str
    owner: str
    signing_secret: str | None = None  # QuantDinger's


@dataclass(frozen=True)
class TerminalCreds:
    terminal_id: str
    token: str
    owner: str


class QuantLink:
    """Drives the handlers with sample events, the way API Gateway would, and inspects the stack."""

    def __init__(self, stack: Stack, functions: dict[str, Function]) -> None:
        self.stack = stack
        self.functions = functions
        # The terminal agent's device in the samples: what pull / ack send unless told otherwise.
        self.device: str = load_event("terminal_pull/pull")["headers"]["X-Device-Fingerprint"]

    # ---- raw invocation ----

    def invoke(self, function: str, event: dict[str, Any]) -> Reply:
        target = self.functions[function]
        context = LambdaContext(
            function_name=target.spec.logical_id,
            invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{target.spec.logical_id}",
        )
        result = target.handler()(event, context)
        text = result.get("body") or ""
        if result.get("isBase64Encoded"):
            text = base64.b64decode(text).decode("utf-8")
        headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        for key, values in (result.get("multiValueHeaders") or {}).items():
            headers[key] = ", ".join(str(v) for v in values)
        return Reply(int(result["statusCode"]), headers, text)

    @staticmethod
    def event(sample: str, **overrides: Any) -> dict[str, Any]:
        """A proxy event from a sample, with overrides (see build_event)."""
        return build_event(sample, **overrides)

    def call(self, sample: str, **overrides: Any) -> Reply:
        """Invoke the function a sample belongs to ("webhook/signal" -> webhook) with that event."""
        return self.invoke(sample.split("/", 1)[0], build_event(sample, **overrides))

    @staticmethod
    def sample_body(sample: str) -> dict[str, Any]:
        """The JSON body of a sample event, e.g. ql.sample_body("webhook/positions")."""
        return sample_body(sample)

    # ---- owners ----

    @staticmethod
    def claims(owner: str) -> dict[str, str]:
        """The sample's Cognito claims, for another user: `sub` is what the API keys owners by."""
        claims: dict[str, str] = dict(load_event("owner_api/list_strategies")["requestContext"]["authorizer"]["claims"])
        subject = str(uuid.uuid5(uuid.NAMESPACE_URL, f"quantlink-it:{owner}"))
        claims.update({"sub": subject, "cognito:username": subject, "email": f"{owner}@example.com"})
        return claims

    def owner_call(self, sample: str, owner: str, **overrides: Any) -> Reply:
        return self.call(sample, claims=self.claims(owner), **overrides)

    def create_strategy(self, owner: str = "alice", name: str = "Momentum", **extra: Any) -> StrategyCreds:
        reply = self.owner_call("owner_api/create_strategy", owner, body={"name": name, **extra})
        assert reply.status == 201, reply.text
        return StrategyCreds(reply.body["strategyId"], reply.body["webhookToken"], owner)

    def create_source_strategy(self, source: str, owner: str = "alice", name: str = "From elsewhere") -> StrategyCreds:
        reply = self.owner_call("owner_api/create_strategy", owner, body={"name": name, "source": source})
        assert reply.status == 201, reply.text
        body = reply.body
        return StrategyCreds(body["strategyId"], body["webhookToken"], owner, body.get("signingSecret"))

    def register_terminal(self, owner: str = "alice", name: str = "Home PC") -> TerminalCreds:
        reply = self.owner_call("owner_api/register_terminal", owner, body={"name": name, "kind": "qmt"})
        assert reply.status == 201, reply.text
        return TerminalCreds(reply.body["terminalId"], reply.body["authToken"], owner)

    def subscribe(self, terminal: TerminalCreds, strategy: StrategyCreds, body: Any = None) -> Reply:
        reply = self.owner_call(
            "owner_api/subscribe",
            terminal.owner,
            path_params={"terminalId": terminal.terminal_id, "strategyId": strategy.strategy_id},
            body=body,
        )
        return reply

    def timeline(self, strategy: StrategyCreds) -> list[dict[str, Any]]:
        reply = self.owner_call("owner_api/signals", strategy.owner, path_params={"strategyId": strategy.strategy_id})
        assert reply.status == 200, reply.text
        items: list[dict[str, Any]] = reply.body["items"]
        return items

    def terminal_view(self, terminal: TerminalCreds) -> dict[str, Any]:
        reply = self.owner_call(
            "owner_api/get_terminal", terminal.owner, path_params={"terminalId": terminal.terminal_id}
        )
        assert reply.status == 200, reply.text
        view: dict[str, Any] = reply.body
        return view

    def linked(self, owner: str = "alice", terminals: int = 1) -> tuple[StrategyCreds, list[TerminalCreds]]:
        """A strategy and `terminals` terminals of the same owner, each subscribed to it."""
        strategy = self.create_strategy(owner)
        created = [self.register_terminal(owner, name=f"PC {n}") for n in range(terminals)]
        for terminal in created:
            assert self.subscribe(terminal, strategy).status == 200
        return strategy, created

    # ---- JoinQuant ----

    @staticmethod
    def signal_body(*, seq: int = 17, order: Mapping[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """The sample signal (API.md) with some fields replaced."""
        body = sample_body("webhook/signal")
        body["seq"] = seq
        body["order"].update(order or {})
        body.update(fields)
        return body

    def webhook(
        self, strategy: StrategyCreds, body: Any, *, token: str | None = None, strategy_id: str | None = None
    ) -> Reply:
        raw = body if isinstance(body, bytes | str) else encode(body)
        return self.call(
            "webhook/signal",
            path_params={"strategyId": strategy_id or strategy.strategy_id},
            headers={"Authorization": f"Bearer {token or strategy.token}"},
            body=raw,
        )

    def send_signal(self, strategy: StrategyCreds, **body_fields: Any) -> dict[str, Any]:
        reply = self.webhook(strategy, self.signal_body(**body_fields))
        assert reply.status == 202, reply.text
        answer: dict[str, Any] = reply.body
        return answer

    # ---- QuantDinger and TradingView ----

    @staticmethod
    def quantdinger_body(**changes: Any) -> dict[str, Any]:
        """The sample qd.signal (events/webhook/quantdinger.json), stamped now, with top-level parts merged."""
        body = sample_body("webhook/quantdinger")
        at = datetime.now(UTC)
        body.update(timestamp=int(at.timestamp()), timestamp_iso=at.isoformat(timespec="seconds"))
        for key, value in changes.items():
            body[key] = {**body[key], **value} if isinstance(value, dict) and isinstance(body.get(key), dict) else value
        return body

    def quantdinger(
        self,
        strategy: StrategyCreds,
        body: Any,
        *,
        secret: str | None = _UNCHANGED,
        timestamp: int | None = None,
        headers: Mapping[str, str | None] | None = None,
    ) -> Reply:
        """POST as QuantDinger's sender does: bearer token, X-QD-Timestamp and X-QD-Signature over the raw
        bytes (`secret` None: unsigned)."""
        raw = body if isinstance(body, bytes) else encode(body)
        key = strategy.signing_secret if secret is _UNCHANGED else secret
        stamp = str(int(datetime.now(UTC).timestamp()) if timestamp is None else timestamp)
        signed: dict[str, str | None] = {"Authorization": f"Bearer {strategy.token}"}
        if key is None:
            signed |= {"X-QD-Timestamp": None, "X-QD-Signature": None}
        else:
            digest = hmac.new(key.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
            signed |= {"X-QD-Timestamp": stamp, "X-QD-Signature": digest}
        return self.call(
            "webhook/quantdinger",
            path_params={"strategyId": strategy.strategy_id},
            headers={**signed, **(headers or {})},
            body=raw,
        )

    def tradingview(self, strategy: StrategyCreds, body: Any, *, query: Mapping[str, str] | None = None) -> Reply:
        raw = body if isinstance(body, bytes) else encode(body)
        return self.call("webhook/tradingview", path_params={"strategyId": strategy.strategy_id}, query=query, body=raw)

    @staticmethod
    def tradingview_body(strategy: StrategyCreds, **changes: Any) -> dict[str, Any]:
        """The sample alert (events/webhook/tradingview.json) with this strategy's token."""
        return {**sample_body("webhook/tradingview"), "token": strategy.token, **changes}

    # ---- terminals ----

    def pull(
        self,
        terminal: TerminalCreds,
        *,
        device: Any = _UNCHANGED,
        wait: str | None = "0",
        max_signals: str | None = "10",
        token: str | None = None,
    ) -> Reply:
        """GET /api/terminals/pull from the sample's device unless `device` is given (None: no header).
        `wait` defaults to 0 here: moto really waits, and no test should."""
        query = {k: v for k, v in (("wait", wait), ("max", max_signals)) if v is not None}
        device = self.device if device is _UNCHANGED else device
        return self.call(
            "terminal_pull/pull",
            query=query,
            headers={"Authorization": f"Bearer {token or terminal.token}", "X-Device-Fingerprint": device},
        )

    def pulled(self, terminal: TerminalCreds, **kwargs: Any) -> list[dict[str, Any]]:
        reply = self.pull(terminal, **kwargs)
        assert reply.status == 200, reply.text
        signals: list[dict[str, Any]] = reply.body["signals"]
        return signals

    def ack(self, terminal: TerminalCreds, acks: Any, *, device: Any = _UNCHANGED, token: str | None = None) -> Reply:
        body = acks if isinstance(acks, bytes | str) else {"acks": acks}
        device = self.device if device is _UNCHANGED else device
        return self.call(
            "terminal_ack/ack",
            headers={"Authorization": f"Bearer {token or terminal.token}", "X-Device-Fingerprint": device},
            body=body,
        )

    @staticmethod
    def executed(signal: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
        """The sample ack (executed) for a pulled signal."""
        ack = dict(sample_body("terminal_ack/ack")["acks"][0])
        ack.update({"signalId": signal["signalId"], "ackToken": signal["ackToken"]}, **fields)
        return ack


@pytest.fixture
def ql(mock_aws: Stack, functions: dict[str, Function]) -> QuantLink:
    return QuantLink(mock_aws, functions)
