"""Start, provision and stop the local stack: moto server + resources from template.yaml + gateway."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from quantlink_local.datadir import DataDir, unusable
from quantlink_local.gateway import CognitoAuthorizer, FunctionPool, Gateway, serve
from quantlink_local.moto_server import STATE_UNUSABLE
from quantlink_local.scheduler import Scheduler, start_local_scheduler
from quantlink_local.template import ACCOUNT_ID, REPO_ROOT, TEMPLATE_PATH, Resolver, Template, parameter_overrides
from quantlink_local.websocket import PushGateway, WebSocketApi

REGION = "us-east-1"
STACK_NAME = "quantlink-local"
DEMO_EMAIL = "demo@quantlink.local"
# A second, free-plan user, so sharing can be tried at once (the demo owner is an admin on the pro plan).
FRIEND_EMAIL = "friend@quantlink.local"
# Resource types the local stack deliberately does not create: the layer is the installed package,
# and IAM / API resources are what the gateways emulate (REST: gateway.py, WebSocket: websocket.py).
NOT_PROVISIONED = {
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::Api",
    "AWS::Serverless::Function",
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::RouteResponse",
    "AWS::ApiGatewayV2::Stage",
    "AWS::Lambda::Permission",
}
PROVISIONING_SERVICES = ("dynamodb", "s3", "cognito-idp", "ses")


class PortInUse(RuntimeError):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"Port {port} on {host} is in use (another local stack?). Stop it, or pick another port: "
            f"PORT={port + 1} make run"
        )


def check_port_free(host: str, port: int) -> None:
    """Fail before starting anything, rather than after moto is up and provisioned."""
    if port == 0:
        return
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortInUse(host, port) from error


def last_port(host: str, last_run: dict[str, Any], key: str) -> int:
    """The last run's port `last_run[key]` when it is free now (what clients cached points at it),
    else 0 (any port)."""
    saved = last_run.get(key)
    if isinstance(saved, int) and saved > 0:
        with contextlib.suppress(PortInUse):
            check_port_free(host, saved)
            return saved
    return 0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LocalStack:
    host: str = "127.0.0.1"
    port: int = 3000
    moto_port: int = 0
    log_level: str = "WARNING"
    static_dir: Path = field(default_factory=lambda: REPO_ROOT / "web" / "dist")
    demo_password: str = field(default_factory=lambda: "Demo-" + secrets.token_urlsafe(9) + "9a")
    data_dir: DataDir | None = None  # None: nothing is kept (tests, the bench's floor)
    last_run: dict[str, Any] | None = None  # the stack.json of the last run on data_dir

    def __post_init__(self) -> None:
        self.template = Template.load(overrides=parameter_overrides(os.environ))
        self.physical: dict[str, str] = {}
        self._moto: subprocess.Popen[bytes] | None = None
        self._server: Any = None
        self._scheduler: Scheduler | None = None
        self.push: PushGateway | None = None
        self.user_pool_id = ""
        self.client_id = ""
        self._clients: dict[tuple[str, str], Any] = {}

    # ---- lifecycle ------------------------------------------------------------------------------

    @property
    def moto_endpoint(self) -> str:
        return f"http://{self.host}:{self.moto_port}"

    @property
    def api_base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalStack:
        check_port_free(self.host, self.port)
        # The SPA's URL (the functions' WEB_URL, in invitation links) is known before the gateway starts.
        self.port = self.port or free_port(self.host)
        self.moto_port = self.moto_port or free_port(self.host)
        command = [
            sys.executable,
            "-m",
            "quantlink_local.moto_server",
            "--host",
            self.host,
            "--port",
            str(self.moto_port),
        ]
        if self.data_dir is None:
            # its stderr is the stack's: `kill -USR1/-USR2` diagnostics (moto_server.py) must be seen
            self._moto = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        else:
            with self.data_dir.moto_log.open("wb") as log:  # the moto server holds the lock too, while it lives
                self._moto = subprocess.Popen(
                    [*command, "--state", str(self.data_dir.aws_state)],
                    stdout=log,
                    stderr=log,
                    pass_fds=(self.data_dir.lock_fd,),
                )
        # Building the SDK clients (loading their service models) overlaps the moto server's start.
        warm = threading.Thread(target=lambda: [self.client(service) for service in PROVISIONING_SERVICES])
        warm.start()
        try:
            self._wait_for_moto()
        finally:
            warm.join()
        self._configure_process_environment()
        if not self._restore_provisioned():
            self.provision()
        self.seed_demo_owner()
        self._start_gateway()
        self._scheduler = start_local_scheduler(self.template, os.environ)
        return self

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None
        if self.push is not None:
            self.push.stop()
            self.push = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._moto is not None:
            self._moto.terminate()  # with a data directory: its last snapshot, then it exits
            try:
                self._moto.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._moto.kill()
            self._moto = None

    def _wait_for_moto(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._moto is not None and self._moto.poll() is not None:
                if self._moto.returncode == STATE_UNUSABLE and self.data_dir is not None:
                    reason = self.data_dir.moto_log.read_text(encoding="utf-8", errors="replace").strip()
                    raise unusable(self.data_dir.path, reason.splitlines()[-1] if reason else "unreadable state.")
                raise RuntimeError(f"moto server exited with {self._moto.returncode}")
            try:
                with urllib.request.urlopen(f"{self.moto_endpoint}/moto-api/", timeout=1):  # noqa: S310 - loopback
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("moto server did not start")

    def _configure_process_environment(self) -> None:
        """The functions run in this process: point every AWS SDK call at the moto server."""
        os.environ["AWS_ENDPOINT_URL"] = self.moto_endpoint
        os.environ["AWS_DEFAULT_REGION"] = REGION
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ.pop("AWS_PROFILE", None)

    def client(self, service: str) -> Any:
        """One client per service (building one loads its service model: ~0.1 s each, at every start)."""
        key = (service, self.moto_endpoint)
        if key not in self._clients:
            self._clients[key] = boto3.session.Session().client(
                service,  # type: ignore[call-overload]
                region_name=REGION,
                endpoint_url=self.moto_endpoint,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._clients[key]

    # ---- provisioning from template.yaml --------------------------------------------------------

    def resolver(self) -> Resolver:
        return Resolver(
            self.template, region=REGION, stack_name=STACK_NAME, physical_ids=self.physical, attributes=self.attribute
        )

    def attribute(self, logical_id: str, name: str) -> str:
        kind = self.template.resources[logical_id]["Type"]
        physical = self.physical[logical_id]
        if kind == "AWS::DynamoDB::Table" and name == "Arn":
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{physical}"
        if kind == "AWS::S3::Bucket" and name == "Arn":
            return f"arn:aws:s3:::{physical}"
        if kind == "AWS::S3::Bucket" and name == "WebsiteURL":
            return self.api_base
        if kind == "AWS::Cognito::UserPool" and name == "Arn":
            return f"arn:aws:cognito-idp:{REGION}:{ACCOUNT_ID}:userpool/{physical}"
        raise KeyError(f"Fn::GetAtt {logical_id}.{name} is not emulated")

    def provision(self) -> None:
        """Create what template.yaml declares; on a restart (the state restored from the data
        directory) every step finds its resource and keeps it, adding only what the template gained."""
        steps = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::S3::Bucket": self._bucket,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::Cognito::UserPoolClient": self._user_pool_client,
            "AWS::Cognito::UserPoolGroup": self._user_pool_group,
            "AWS::S3::BucketPolicy": self._bucket_policy,
            "AWS::SES::EmailIdentity": self._email_identity,
        }
        unknown = {r["Type"] for r in self.template.resources.values()} - set(steps) - NOT_PROVISIONED
        if unknown:
            raise RuntimeError(f"template.yaml has resource types the local stack does not create: {sorted(unknown)}")
        for kind, step in steps.items():  # in dependency order
            for logical_id, resource in self.template.of_type(kind).items():
                step(logical_id, self.resolver().resolve(resource.get("Properties", {})))

    def _table(self, logical_id: str, props: dict[str, Any]) -> None:
        dynamodb = self.client("dynamodb")
        args: dict[str, Any] = {
            k: props[k] for k in ("TableName", "AttributeDefinitions", "KeySchema", "BillingMode") if k in props
        }
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification", "ProvisionedThroughput"):
            if key in props:
                args[key] = props[key]
        if "SSESpecification" in props:
            args["SSESpecification"] = {"Enabled": bool(props["SSESpecification"].get("SSEEnabled"))}
        self.physical[logical_id] = props["TableName"]
        try:
            existing = dynamodb.describe_table(TableName=props["TableName"])["Table"]
        except dynamodb.exceptions.ResourceNotFoundException:
            existing = None
        if existing is not None:
            self._keep_table(existing, args)
            return
        dynamodb.create_table(**args)
        if "TimeToLiveSpecification" in props:
            dynamodb.update_time_to_live(
                TableName=props["TableName"], TimeToLiveSpecification=props["TimeToLiveSpecification"]
            )
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr:
            dynamodb.update_continuous_backups(TableName=props["TableName"], PointInTimeRecoverySpecification=pitr)

    def _keep_table(self, existing: dict[str, Any], wanted: dict[str, Any]) -> None:
        """A kept table must have the template's keys; indexes the template gained are added."""
        name = wanted["TableName"]
        if existing["KeySchema"] != wanted["KeySchema"]:
            assert self.data_dir is not None
            raise unusable(
                self.data_dir.path,
                f"its table {name} has the keys {existing['KeySchema']}; template.yaml now wants "
                f"{wanted['KeySchema']}.",
            )
        have = {index["IndexName"] for index in existing.get("GlobalSecondaryIndexes", [])}
        for index in wanted.get("GlobalSecondaryIndexes", []):
            if index["IndexName"] not in have:
                self.client("dynamodb").update_table(
                    TableName=name,
                    AttributeDefinitions=wanted["AttributeDefinitions"],
                    GlobalSecondaryIndexUpdates=[{"Create": index}],
                )

    def _bucket(self, logical_id: str, props: dict[str, Any]) -> None:
        s3 = self.client("s3")
        name = props["BucketName"]
        self.physical[logical_id] = name
        if any(bucket["Name"] == name for bucket in s3.list_buckets().get("Buckets", [])):
            return
        s3.create_bucket(Bucket=name)
        website = props.get("WebsiteConfiguration")
        if website:
            config: dict[str, Any] = {"IndexDocument": {"Suffix": website["IndexDocument"]}}
            if "ErrorDocument" in website:
                config["ErrorDocument"] = {"Key": website["ErrorDocument"]}
            s3.put_bucket_website(Bucket=name, WebsiteConfiguration=config)
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )

    def _bucket_policy(self, logical_id: str, props: dict[str, Any]) -> None:
        self.client("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"]))
        self.physical[logical_id] = props["Bucket"]

    def _user_pool(self, logical_id: str, props: dict[str, Any]) -> None:
        cognito = self.client("cognito-idp")
        pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
        kept = next((pool["Id"] for pool in pools if pool["Name"] == props["UserPoolName"]), None)
        if kept is None:
            args = {k: v for k, v in props.items() if k != "UserPoolName"}
            kept = cognito.create_user_pool(PoolName=props["UserPoolName"], **args)["UserPool"]["Id"]
        self.user_pool_id = kept
        self.physical[logical_id] = self.user_pool_id

    def _user_pool_client(self, logical_id: str, props: dict[str, Any]) -> None:
        cognito = self.client("cognito-idp")
        clients = cognito.list_user_pool_clients(UserPoolId=props["UserPoolId"], MaxResults=60)["UserPoolClients"]
        kept = next((c["ClientId"] for c in clients if c["ClientName"] == props.get("ClientName")), None)
        if kept is None:
            kept = cognito.create_user_pool_client(**props)["UserPoolClient"]["ClientId"]
        self.client_id = kept
        self.physical[logical_id] = self.client_id

    def _user_pool_group(self, logical_id: str, props: dict[str, Any]) -> None:
        cognito = self.client("cognito-idp")
        with contextlib.suppress(cognito.exceptions.GroupExistsException):  # provisioned again over kept data
            cognito.create_group(**props)
        self.physical[logical_id] = props["GroupName"]

    def _email_identity(self, logical_id: str, props: dict[str, Any]) -> None:
        """moto's SES sends only from a verified identity; locally every declared one is verified."""
        identity = props["EmailIdentity"]
        ses = self.client("ses")
        if "@" in identity:
            ses.verify_email_identity(EmailAddress=identity)
        else:
            ses.verify_domain_identity(Domain=identity)
        self.physical[logical_id] = identity

    # ---- owners ---------------------------------------------------------------------------------

    def create_owner(self, email: str, password: str) -> None:
        """A confirmed owner with this password (an existing one gets the password back)."""
        cognito = self.client("cognito-idp")
        try:
            cognito.admin_get_user(UserPoolId=self.user_pool_id, Username=email)
        except cognito.exceptions.UserNotFoundException:
            pass
        else:
            cognito.admin_set_user_password(
                UserPoolId=self.user_pool_id, Username=email, Password=password, Permanent=True
            )
            return
        cognito.admin_create_user(
            UserPoolId=self.user_pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(UserPoolId=self.user_pool_id, Username=email, Password=password, Permanent=True)

    def seed_demo_owner(self) -> None:
        self.create_owner(DEMO_EMAIL, self.demo_password)
        for group in self.template.of_type("AWS::Cognito::UserPoolGroup").values():
            name = self.resolver().resolve(group["Properties"])["GroupName"]
            self.client("cognito-idp").admin_add_user_to_group(
                UserPoolId=self.user_pool_id, Username=DEMO_EMAIL, GroupName=name
            )
        self.create_owner(FRIEND_EMAIL, self.demo_password)

    # ---- the gateway ----------------------------------------------------------------------------

    def function_environment(self) -> dict[str, str]:
        """The union of every function's resolved environment (they share this process), with the
        values that must point at local endpoints instead of AWS ones."""
        overrides = {
            "COGNITO_ENDPOINT": self.moto_endpoint,
            "POWERTOOLS_LOG_LEVEL": self.log_level,
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "REGION": REGION,
        }
        if self.push is not None:  # the functions reach the local WebSocket API, not AWS's
            overrides.update({"PUSH_URL": self.push.url, "PUSH_ENDPOINT": self.push.management_url})
        merged: dict[str, str] = {}
        for spec in self.template.functions():
            for name, raw in spec.environment.items():
                resolved = overrides.get(name, str(self.resolver().resolve(raw)))
                if merged.get(name, resolved) != resolved:
                    raise RuntimeError(f"functions disagree on {name}; the local stack runs them in one process")
                merged[name] = resolved
        merged.update({k: v for k, v in overrides.items() if k not in merged})
        return merged

    def _start_gateway(self) -> None:
        pools = {spec.logical_id: FunctionPool(spec) for spec in self.template.functions()}
        stage = self.template.parameters.get("StageName", "prod")
        websocket_api = WebSocketApi.from_template(self.template)
        if websocket_api is not None:
            push = PushGateway(websocket_api, pools, host=self.host, stage=stage)
            # The last run's port: an agent that cached the URL reconnects without asking /api/config.
            self.push = push.start(port=last_port(self.host, self.last_run or {}, "pushPort"))
            self.physical[websocket_api.logical_id] = self.push.api_id
        os.environ.update(self.function_environment())
        # Powertools warns when an invocation adds no metric (every owner-API call); locally it is noise.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{self.user_pool_id}"
        jwks = f"{self.moto_endpoint}/{self.user_pool_id}/.well-known/jwks.json"
        gateway = Gateway(
            self.template,
            pools,
            CognitoAuthorizer(jwks, issuer, self.client_id),
            resolve=self.resolver().resolve,
            static_dir=self.static_dir,
            stage=self.template.parameters.get("StageName", "prod"),
            moto_endpoint=self.moto_endpoint,
        )
        self._server = serve(gateway, self.host, self.port)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True).start()

    def template_digest(self) -> str:
        return hashlib.sha256(TEMPLATE_PATH.read_bytes()).hexdigest()

    def _restore_provisioned(self) -> bool:
        """On a restart with the same template.yaml, the restored state already holds every
        resource: take their ids from the last run instead of asking for each (~0.7 s)."""
        last = self.last_run or {}
        physical = last.get("physical")
        if self.data_dir is None or not self.data_dir.aws_state.exists() or not isinstance(physical, dict):
            return False
        if last.get("templateSha256") != self.template_digest():
            return False
        self.physical = {str(k): str(v) for k, v in physical.items()}
        self.user_pool_id, self.client_id = str(last.get("userPoolId")), str(last.get("clientId"))
        return True

    def describe(self) -> dict[str, Any]:
        """What stack.json holds: the endpoints and the demo login (`make demo`, tests), and what the
        next start on this data directory reuses."""
        return {
            "templateSha256": self.template_digest(),
            "physical": self.physical,
            "apiBase": self.api_base,
            "motoEndpoint": self.moto_endpoint,
            "region": REGION,
            "userPoolId": self.user_pool_id,
            "clientId": self.client_id,
            "demoEmail": DEMO_EMAIL,
            "demoPassword": self.demo_password,
            "friendEmail": FRIEND_EMAIL,
            "friendPassword": self.demo_password,
            "pushUrl": self.push.url if self.push else None,
            "pushManagementUrl": self.push.management_url if self.push else None,
        }
