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
    DriftAlertsBody,
    DriftComputeBody,
    DriftSyncBody,
    DriftThresholdBody,
    InjectBody,
    JoinQuantPositionsBody,
    JoinQuantSignalBody,
    SignalState,
    SubscribeBody,
    TerminalPositionsBody,
    UpdateStrategyBody,
)
from quantlink.sharing.records import (
    CreateBundleBody,
    CreateGroupBody,
    CreateInvitationBody,
    GroupMemberBody,
    GroupShareBody,
    SetPlanBody,
    Settings,
    SettingsBody,
    ShareSide,
    TokenBody,
    UpdateShareBody,
)
from quantlink.sources.quantdinger import QdSignalBody
from quantlink.sources.tradingview import TradingViewAlert
from quantlink.views.drift import DriftAlertsView, DriftHistory, DriftReport, DriftThreshold, SyncSent
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
from quantlink.views.sharing import (
    Accepted,
    AuditPage,
    BundleList,
    BundleView,
    CreatedInvitation,
    GroupList,
    GroupShareView,
    GroupView,
    InvitationList,
    InvitationPreview,
    Me,
    ShareList,
    ShareView,
    UserList,
    UserView,
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
_AS = Param("as", "query", {"type": "string", "enum": [s.value for s in ShareSide], "default": "owner"})
_AUDIT = (
    Param("strategyId", "query", {"type": "string"}),
    Param("actor", "query", {"type": "string", "description": "A user id or email address"}),
    Param("action", "query", {"type": "string", "description": "An action (share.paused) or a category (share)"}),
    Param("since", "query", {"type": "string", "format": "date-time"}),
    Param("until", "query", {"type": "string", "format": "date-time"}),
    _LIMIT,
    Param("cursor", "query", {"type": "string", "description": "nextCursor of the previous page"}),
)
_WAIT = Param("wait", "query", {"type": "integer", "minimum": 0, "maximum": 20, "default": 20})
_MAX = Param("max", "query", {"type": "integer", "minimum": 1, "maximum": 10, "default": 10})
_DATE = Param("date", "query", {"type": "string", "format": "date", "description": "YYYY-MM-DD; default: the latest"})
_SECURITY = Param("security", "query", {"type": "string", "description": "600000.SH or 600000.XSHG: that row per day"})
_DAYS = Param("days", "query", {"type": "integer", "minimum": 1, "maximum": 366, "default": 30})
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
    Operation("PUT", "/api/terminals/{terminalId}/subscriptions/{strategyId}", "Subscribe a terminal to a strategy "
              "(yours, or one shared with you: within the share's terminalLimit)",
              "terminals", OWNER, 200, SubscriptionView, SubscribeBody, body_required=False, errors=(409,)),
    Operation("DELETE", "/api/terminals/{terminalId}/subscriptions/{strategyId}", "Unsubscribe", "terminals",
              OWNER, 204, None),
    Operation("POST", "/api/terminals/{terminalId}/token", "Rotate the terminal's auth token (shown once)",
              "terminals", OWNER, 200, AuthToken),
    Operation("POST", "/api/terminals/{terminalId}/release", "Forget the bound device", "terminals", OWNER, 200,
              TerminalView),
    Operation("POST", "/api/terminals/{terminalId}/drift", "Compute the drift report now (what the 15:20 job "
              "does); default day: the latest trading day with data", "drift", OWNER, 200, DriftReport,
              DriftComputeBody, body_required=False),
    Operation("GET", "/api/terminals/{terminalId}/drift", "The stored drift report (latest when no date)", "drift",
              OWNER, 200, DriftReport, params=(_DATE,), errors=(400,)),
    Operation("GET", "/api/terminals/{terminalId}/drift/history", "Drift score per day, newest first (with "
              "?security=, that security's row)", "drift", OWNER, 200, DriftHistory, params=(_SECURITY, _DAYS),
              errors=(400,)),
    Operation("PUT", "/api/terminals/{terminalId}/drift/threshold", "Alert above this score (0..1)", "drift", OWNER,
              200, DriftThreshold, DriftThresholdBody),
    Operation("PUT", "/api/terminals/{terminalId}/drift/alerts", "Where drift alerts go: your email and up to five "
              "DingTalk / WeCom / Feishu robots", "drift", OWNER, 200, DriftAlertsView, DriftAlertsBody),
    Operation("POST", "/api/terminals/{terminalId}/drift/sync", "Send the report's sync orders to this terminal as "
              "signals with origin sync, once (audited)", "drift", OWNER, 202, SyncSent, DriftSyncBody,
              errors=(409,)),
    Operation("GET", "/api/me", "You: plan, admin flag and what your plan allows", "sharing", OWNER, 200, Me),
    Operation("POST", "/api/invitations", "Invite a person by email (sent at once, valid 7 days, only for that "
              "address) or create a link invitation", "sharing", OWNER, 201, CreatedInvitation, CreateInvitationBody,
              errors=(403, 404)),
    Operation("GET", "/api/invitations", "The invitations you sent", "sharing", OWNER, 200, InvitationList),
    Operation("DELETE", "/api/invitations/{invitationId}", "Revoke an invitation (shares made stay)", "sharing",
              OWNER, 204, None),
    Operation("POST", "/api/invitations/inspect", "What an invitation token offers", "sharing", OWNER, 200,
              InvitationPreview, TokenBody, errors=(404,)),
    Operation("POST", "/api/invitations/accept", "Accept an invitation: the shares it gives", "sharing", OWNER,
              200, Accepted, TokenBody, errors=(403, 404, 409, 410)),
    Operation("GET", "/api/shares", "Shares you gave (as=owner) or received (as=recipient)", "sharing", OWNER, 200,
              ShareList, params=(_AS,), errors=(400,)),
    Operation("PATCH", "/api/shares/{shareId}", "Change a share (the recipient: only paused, with canPause)",
              "sharing", OWNER, 200, ShareView, UpdateShareBody, errors=(403, 409)),
    Operation("DELETE", "/api/shares/{shareId}", "Revoke (owner) or remove (recipient, with canDelete) a share",
              "sharing", OWNER, 204, None, errors=(403,)),
    Operation("POST", "/api/bundles", "Create a bundle (sg_…) of your strategies, shared together", "bundles", OWNER,
              201, BundleView, CreateBundleBody, errors=(403, 404)),
    Operation("GET", "/api/bundles", "Your bundles", "bundles", OWNER, 200, BundleList),
    Operation("GET", "/api/bundles/{bundleId}", "One bundle with its members", "bundles", OWNER, 200, BundleView),
    Operation("DELETE", "/api/bundles/{bundleId}", "Delete a bundle: its members lose what it shared", "bundles",
              OWNER, 204, None),
    Operation("PUT", "/api/bundles/{bundleId}/strategies/{strategyId}", "Add a strategy: every member gets it at "
              "once", "bundles", OWNER, 200, BundleView),
    Operation("DELETE", "/api/bundles/{bundleId}/strategies/{strategyId}", "Remove a strategy: every member loses "
              "it at once", "bundles", OWNER, 204, None),
    Operation("DELETE", "/api/bundles/{bundleId}/members/{userId}", "Remove a member (it loses what came through "
              "the bundle)", "bundles", OWNER, 204, None),
    Operation("POST", "/api/groups", "Create a group (grp_…)", "groups", OWNER, 201, GroupView, CreateGroupBody,
              errors=(403,)),
    Operation("GET", "/api/groups", "Your groups", "groups", OWNER, 200, GroupList),
    Operation("GET", "/api/groups/{groupId}", "One group: members, shares, pending invitations", "groups", OWNER,
              200, GroupView),
    Operation("DELETE", "/api/groups/{groupId}", "Delete a group: its members lose what came through it",
              "groups", OWNER, 204, None),
    Operation("PUT", "/api/groups/{groupId}/members", "Add a member by email (an existing user gets everything "
              "shared to the group at once; an unknown address is invited by email)", "groups", OWNER, 200,
              GroupView, GroupMemberBody, errors=(403,)),
    Operation("DELETE", "/api/groups/{groupId}/members/{userId}", "Remove a member (it loses what came through "
              "the group)", "groups", OWNER, 204, None),
    Operation("POST", "/api/groups/{groupId}/shares", "Share a strategy or bundle with every member, present and "
              "future", "groups", OWNER, 201, GroupShareView, GroupShareBody, errors=(403,)),
    Operation("DELETE", "/api/groups/{groupId}/shares/{groupShareId}", "End a group share (what members had "
              "through it ends)", "groups", OWNER, 204, None),
    Operation("GET", "/api/audit", "The audit log, newest first (yours; an admin's: everyone's)", "audit", OWNER,
              200, AuditPage, params=_AUDIT, errors=(400,)),
    Operation("GET", "/api/admin/settings", "Audit settings (admins)", "admin", OWNER, 200, Settings,
              errors=(403,)),
    Operation("PUT", "/api/admin/settings", "Switch the audit log, set its retention (admins)", "admin", OWNER, 200,
              Settings, SettingsBody, errors=(403,)),
    Operation("GET", "/api/admin/users", "Every user (admins)", "admin", OWNER, 200, UserList, errors=(403,)),
    Operation("PUT", "/api/admin/users/{userId}/plan", "Set a user's plan (admins)", "admin", OWNER, 200, UserView,
              SetPlanBody, errors=(403,)),
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
    403: "FORBIDDEN / PLAN_REQUIRED (your plan does not include this)",
    409: "DEVICE_TAKEN_OVER (terminal calls) / CONFLICT / TERMINAL_LIMIT_REACHED (subscribe)",
    410: "INVITATION_EXPIRED / INVITATION_REVOKED / INVITATION_USED_UP",
    413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMITED: the API's throttling, or a strategy's webhook past its rate limit (Retry-After says when)",
    503: "UNAVAILABLE: retry-safe, with the same body",
}


_RETRY_AFTER = {
    "description": "Seconds until this terminal's limit window ends (quantlink.throttling); absent when API"
    " Gateway throttles the API as a whole: back off then.",
    "schema": {"type": "integer", "minimum": 1},
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
        if op.auth == TERMINAL:  # the per-terminal limits say when to come back
            responses["429"]["headers"] = {"Retry-After": _RETRY_AFTER}
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
