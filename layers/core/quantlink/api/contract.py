"""The OpenAPI 3.1 document of the whole API (all four functions), served at /api/openapi.json and
written to docs/openapi.json by `make openapi`. Request bodies come from the pydantic models the
handlers validate with, answers from the view models they answer with (quantlink.views), so the SPA
can be generated against it. Tests check that the operations here are exactly the routes in
template.yaml, that every reference resolves and that the document is valid OpenAPI 3.1."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from quantlink import __version__
from quantlink.models import (
    AckBody,
    CreateStrategyBody,
    CreateTerminalBody,
    InjectBody,
    JoinQuantPositionsBody,
    JoinQuantSignalBody,
    SignalState,
    SubscribeBody,
    TerminalPositionsBody,
    UpdateStrategyBody,
)
from quantlink.sources.quantdinger import QdSignalBody
from quantlink.sources.tradingview import TradingViewAlert
from quantlink.views.errors import ErrorBody
from quantlink.views.owner import (
    AuthToken,
    CreatedStrategy,
    CreatedTerminal,
    Health,
    InjectResult,
    PublicConfig,
    StrategyList,
    StrategyView,
    SubscriptionView,
    TerminalDetail,
    TerminalList,
    TerminalView,
    TimelinePage,
    WebhookToken,
)
from quantlink.views.relay import (
    AckAnswer,
    PositionsAccepted,
    PullAnswer,
    SignalAccepted,
    SignalDuplicate,
    WebhookIgnored,
)

OWNER, WEBHOOK, TERMINAL = "cognito", "webhookToken", "terminalToken"
WEBHOOK_QUERY = "webhookTokenInQuery"  # TradingView sends no headers: ?token= (or the body's "token")
_REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Param:
    name: str
    where: Literal["query", "header"]
    schema: dict[str, Any]
    required: bool = False


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    auth: str | None
    success: int
    response: type[BaseModel] | dict[str, Any] | None  # None: no body (204)
    request: type[BaseModel] | None = None
    body_required: bool = True
    params: tuple[Param, ...] = ()
    errors: tuple[int, ...] = ()  # beyond those every operation of its kind can answer (statuses())
    also: tuple[tuple[int, type[BaseModel], str], ...] = ()  # other 2xx answers: status, body, description
    stateless: bool = False  # reads nothing from AWS (so never 503)


_LIMIT = Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50})
_BEFORE = Param("before", "query", {"type": "string", "description": "nextBefore of the previous page"})
_STATUS = Param("status", "query", {"type": "string", "enum": [s.value for s in SignalState],
                "description": "Only signals of this status (a page may then hold fewer than limit: follow "
                               "nextBefore until it is null)"})  # fmt: skip
_WAIT = Param("wait", "query", {"type": "integer", "minimum": 0, "maximum": 20, "default": 20})
_MAX = Param("max", "query", {"type": "integer", "minimum": 1, "maximum": 10, "default": 10})
_DEVICE = Param("X-Device-Fingerprint", "header", {"type": "string", "minLength": 8, "maxLength": 128}, True)
_CHECKED_DEVICE = Param("X-Device-Fingerprint", "header", {"type": "string", "minLength": 8, "maxLength": 128,
                        "description": "Checked against the bound device when present"})  # fmt: skip

_QD_TIMESTAMP = Param(
    "X-QD-Timestamp",
    "header",
    {"type": "string", "pattern": "^[0-9]{1,12}$", "description": "Unix seconds; within 300 s of QuantLink's clock"},
    True,
)
_QD_SIGNATURE = Param("X-QD-Signature", "header", {"type": "string", "description": "lowercase hex "
                      "HMAC-SHA256(signingSecret, X-QD-Timestamp + '.' + raw body)"}, True)  # fmt: skip
_DUPLICATE_ORDER = (200, SignalDuplicate, "Duplicate: this order was received before; nothing is sent")

OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/api/health", "Liveness", "public", None, 200, Health, stateless=True),
    Operation("GET", "/api/config", "What a client needs to sign in", "public", None, 200, PublicConfig,
              stateless=True),
    Operation("GET", "/api/openapi.json", "This document", "public", None, 200, {"type": "object"}, stateless=True),
    Operation("POST", "/api/strategies", "Create a strategy (the webhook token is shown once)", "strategies", OWNER,
              201, CreatedStrategy, CreateStrategyBody),
    Operation("GET", "/api/strategies", "List your strategies, newest first", "strategies", OWNER, 200,
              StrategyList),
    Operation("GET", "/api/strategies/{strategyId}", "One strategy", "strategies", OWNER, 200, StrategyView),
    Operation("PATCH", "/api/strategies/{strategyId}", "Rename and / or pause (the kill switch: while paused, "
              "signals are recorded HELD and delivered to no terminal, then or later) or resume", "strategies", OWNER,
              200, StrategyView, UpdateStrategyBody),
    Operation("DELETE", "/api/strategies/{strategyId}", "Delete a strategy and its signals: its webhook answers 401 "
              "at once, its subscriptions end, its signals and their deliveries are deleted with it (its timeline "
              "answers 404; a queued signal is never delivered)", "strategies", OWNER, 204, None),
    Operation("POST", "/api/strategies/{strategyId}/token", "Rotate the webhook token (the old one stops working)",
              "strategies", OWNER, 200, WebhookToken),
    Operation("POST", "/api/strategies/{strategyId}/inject", "Inject the QuantLink sender into strategy code",
              "strategies", OWNER, 200, InjectResult, InjectBody),
    Operation("GET", "/api/strategies/{strategyId}/signals", "Signal timeline, newest first, with deliveries",
              "strategies", OWNER, 200, TimelinePage, params=(_LIMIT, _BEFORE, _STATUS), errors=(400,)),
    Operation("POST", "/api/terminals", "Register a terminal (the auth token is shown once)", "terminals", OWNER,
              201, CreatedTerminal, CreateTerminalBody),
    Operation("GET", "/api/terminals", "List your terminals, newest first", "terminals", OWNER, 200, TerminalList),
    Operation("GET", "/api/terminals/{terminalId}", "One terminal", "terminals", OWNER, 200, TerminalDetail),
    Operation("DELETE", "/api/terminals/{terminalId}", "Delete a terminal, its queue and subscriptions",
              "terminals", OWNER, 204, None),
    Operation("PUT", "/api/terminals/{terminalId}/subscriptions/{strategyId}", "Subscribe a terminal to a strategy",
              "terminals", OWNER, 200, SubscriptionView, SubscribeBody, body_required=False),
    Operation("DELETE", "/api/terminals/{terminalId}/subscriptions/{strategyId}", "Unsubscribe", "terminals",
              OWNER, 204, None),
    Operation("POST", "/api/terminals/{terminalId}/token", "Rotate the terminal's auth token (shown once)",
              "terminals", OWNER, 200, AuthToken),
    Operation("POST", "/api/terminals/{terminalId}/release", "Forget the bound device", "terminals", OWNER, 200,
              TerminalView),
    Operation("POST", "/api/webhooks/joinquant/{strategyId}", "JoinQuant order signal (202 new, 200 duplicate)",
              "webhook", WEBHOOK, 202, SignalAccepted, JoinQuantSignalBody, errors=(409,),
              also=((200, SignalDuplicate, "Duplicate: the same bytes were received before; nothing is sent"),)),
    Operation("POST", "/api/webhooks/joinquant/{strategyId}/positions", "Daily position snapshot", "webhook",
              WEBHOOK, 202, PositionsAccepted, JoinQuantPositionsBody),
    Operation("POST", "/api/webhooks/quantdinger/{strategyId}", "QuantDinger signal (202 new; 200 a re-send of the "
              "same pending order, the test event or another ignored event; 400 a short; 401 a bad or stale "
              "signature)", "webhook", WEBHOOK, 202, SignalAccepted, QdSignalBody, errors=(409,),
              params=(_QD_TIMESTAMP, _QD_SIGNATURE),
              also=(_DUPLICATE_ORDER, (200, WebhookIgnored, "qd.profile_test or another event without an order"))),
    Operation("POST", "/api/webhooks/tradingview/{strategyId}", "TradingView alert, the message of the strategy's "
              "alertTemplate (202 new, 200 duplicate: identical bytes)", "webhook", WEBHOOK_QUERY, 202,
              SignalAccepted, TradingViewAlert, errors=(409,),
              params=(Param("token", "query", {"type": "string", "description": "The webhook token (or the "
                            "body's \"token\")"}),),
              also=((200, SignalDuplicate, "Duplicate: the same bytes were received before; nothing is sent"),)),
    Operation("GET", "/api/terminals/pull", "Long-poll the terminal's signals", "terminal", TERMINAL, 200,
              PullAnswer, params=(_WAIT, _MAX, _DEVICE), errors=(400, 409)),
    Operation("POST", "/api/terminals/ack", "Acknowledge executed / failed / rejected signals", "terminal",
              TERMINAL, 200, AckAnswer, AckBody, params=(_CHECKED_DEVICE,), errors=(409,)),
    Operation("POST", "/api/terminals/positions", "Real holdings for drift monitoring", "terminal", TERMINAL, 202,
              PositionsAccepted, TerminalPositionsBody, params=(_CHECKED_DEVICE,), errors=(409,)),
)  # fmt: skip

ERROR_CODES = {
    400: "VALIDATION_ERROR (with details)",
    401: "UNAUTHORIZED: no or a wrong token (an unknown id answers the same)",
    404: "NOT_FOUND: no such resource, or another owner's",
    409: "DEVICE_TAKEN_OVER (terminal calls) / CONFLICT (retry)",
    413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMITED (the API's throttling)",
    503: "UNAVAILABLE: retry-safe, with the same body",
}


def path_params(op: Operation) -> list[str]:
    return [part[1:-1] for part in op.path.split("/") if part.startswith("{")]


def statuses(op: Operation) -> list[int]:
    """Every error status the operation can answer: by its kind, plus its own."""
    found = {429, *op.errors}
    if op.auth is not None:
        found.add(401)
    if op.request is not None:
        found |= {400, 413}
    if op.auth == OWNER and path_params(op):
        found.add(404)
    if not op.stateless:
        found.add(503)
    return sorted(found)


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in path_params(op)]
    params += [{"name": p.name, "in": p.where, "required": p.required, "schema": p.schema} for p in op.params]
    return params


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def openapi_document(server_url: str = "/") -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [(ErrorBody, "serialization")]
    for op in OPERATIONS:
        if op.request is not None:
            models.append((op.request, "validation"))
        if isinstance(op.response, type):
            models.append((op.response, "serialization"))
        models += [(model, "serialization") for _, model, _ in op.also]
    refs, definitions = models_json_schema(list(dict.fromkeys(models)), by_alias=True, ref_template=_REF)
    error = {"$ref": _REF.format(model=ErrorBody.__name__)}

    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        entry: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "operationId": _operation_id(op)}
        entry["security"] = [{op.auth: []}] if op.auth else []
        entry["parameters"] = _parameters(op)
        if op.request is not None:
            entry["requestBody"] = {"required": op.body_required, "content": _json(refs[(op.request, "validation")])}
        responses: dict[str, Any] = {}
        success: dict[str, Any] = {"description": "OK" if op.response is not None else "Done (no body)"}
        if isinstance(op.response, type):
            success["content"] = _json(refs[(op.response, "serialization")])
        elif op.response is not None:
            success["content"] = _json(op.response)
        responses[str(op.success)] = success
        for status, model, description in op.also:  # two answers of one status: either of them (oneOf)
            schema = refs[(model, "serialization")]
            if str(status) in responses:
                earlier = responses[str(status)]
                schema = {"oneOf": [earlier["content"]["application/json"]["schema"], schema]}
                description = f"{earlier['description']}; or {description[:1].lower()}{description[1:]}"
            responses[str(status)] = {"description": description, "content": _json(schema)}
        for status in statuses(op):
            responses[str(status)] = {"description": ERROR_CODES[status], "content": _json(error)}
        entry["responses"] = responses
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "QuantLink API", "version": __version__},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                OWNER: {"type": "http", "scheme": "bearer", "bearerFormat": "Cognito ID token"},
                WEBHOOK: {"type": "http", "scheme": "bearer", "description": "The strategy's webhook token"},
                WEBHOOK_QUERY: {
                    "type": "apiKey",
                    "in": "query",
                    "name": "token",
                    "description": "The strategy's webhook token (or the body's \"token\")",
                },
                TERMINAL: {"type": "http", "scheme": "bearer", "description": "The terminal's auth token"},
            },
        },
    }


def _operation_id(op: Operation) -> str:
    """A stable name for generated clients: method and the path's literal parts, camelCased."""
    words = [op.method.lower()] + [
        part.strip("{}").replace(".", "_").replace("-", "_") for part in op.path.split("/")[2:] if part
    ]
    return words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:])


if __name__ == "__main__":
    json.dump(openapi_document(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
