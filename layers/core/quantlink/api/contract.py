"""The OpenAPI document of the whole API (all four functions), served at /api/openapi.json and
written to docs/openapi.json by `make openapi`. Bodies come from the pydantic models the handlers
validate with; a test checks that the operations here are exactly the routes in template.yaml."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from quantlink import __version__
from quantlink.models import (
    AckBody,
    CreateStrategyBody,
    CreateTerminalBody,
    InjectBody,
    JoinQuantPositionsBody,
    JoinQuantSignalBody,
    QueuedSignal,
    SubscribeBody,
    TerminalPositionsBody,
)

OWNER, WEBHOOK, TERMINAL, PUBLIC = "cognito", "webhookToken", "terminalToken", None


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    auth: str | None
    request: type[BaseModel] | None = None
    success: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    errors: tuple[int, ...] = ()


_obj = {"type": "object"}
_items = {"type": "object", "properties": {"items": {"type": "array", "items": _obj}}}

OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/api/health", "Liveness", "public", PUBLIC,
              response={"type": "object", "properties": {"status": {"const": "ok"}}}),
    Operation("GET", "/api/config", "What a client needs to sign in", "public", PUBLIC, response=_obj),
    Operation("GET", "/api/openapi.json", "This document", "public", PUBLIC, response=_obj),
    Operation("POST", "/api/strategies", "Create a strategy (the webhook token is shown once)", "strategies", OWNER,
              CreateStrategyBody, 201, _obj, (400, 401)),
    Operation("GET", "/api/strategies", "List your strategies", "strategies", OWNER, response=_items),
    Operation("GET", "/api/strategies/{strategyId}", "One strategy", "strategies", OWNER, response=_obj,
              errors=(401, 404)),
    Operation("POST", "/api/strategies/{strategyId}/token", "Rotate the webhook token", "strategies", OWNER,
              response={"type": "object", "properties": {"webhookToken": {"type": "string"}}}, errors=(401, 404)),
    Operation("POST", "/api/strategies/{strategyId}/inject", "Inject the QuantLink sender into strategy code",
              "strategies", OWNER, InjectBody, response=_obj, errors=(400, 401, 404)),
    Operation("GET", "/api/strategies/{strategyId}/signals", "Signal timeline, newest first, with deliveries",
              "strategies", OWNER, response=_items, errors=(400, 401, 404)),
    Operation("POST", "/api/terminals", "Register a terminal (the auth token is shown once)", "terminals", OWNER,
              CreateTerminalBody, 201, _obj, (400, 401)),
    Operation("GET", "/api/terminals", "List your terminals", "terminals", OWNER, response=_items),
    Operation("GET", "/api/terminals/{terminalId}", "One terminal", "terminals", OWNER, response=_obj,
              errors=(401, 404)),
    Operation("DELETE", "/api/terminals/{terminalId}", "Delete a terminal, its queue and subscriptions",
              "terminals", OWNER, success=204, errors=(401, 404)),
    Operation("PUT", "/api/terminals/{terminalId}/subscriptions/{strategyId}", "Subscribe a terminal to a strategy",
              "terminals", OWNER, SubscribeBody, response=_obj, errors=(400, 401, 404)),
    Operation("DELETE", "/api/terminals/{terminalId}/subscriptions/{strategyId}", "Unsubscribe", "terminals",
              OWNER, success=204, errors=(401, 404)),
    Operation("POST", "/api/terminals/{terminalId}/token", "Rotate the terminal's auth token (shown once)",
              "terminals", OWNER, response={"type": "object", "properties": {"authToken": {"type": "string"}}},
              errors=(401, 404)),
    Operation("POST", "/api/terminals/{terminalId}/release", "Forget the bound device", "terminals", OWNER,
              response=_obj, errors=(401, 404)),
    Operation("POST", "/api/webhooks/joinquant/{strategyId}", "JoinQuant order signal (202 new, 200 duplicate)",
              "webhook", WEBHOOK, JoinQuantSignalBody, 202,
              {"type": "object", "properties": {"signalId": {"type": "string"}, "duplicate": {"type": "boolean"},
                                                "deliveries": {"type": "integer"}}}, (400, 401, 413)),
    Operation("POST", "/api/webhooks/joinquant/{strategyId}/positions", "Daily position snapshot", "webhook",
              WEBHOOK, JoinQuantPositionsBody, 202, _obj, (400, 401, 413)),
    Operation("GET", "/api/terminals/pull", "Long-poll the terminal's signals", "terminal", TERMINAL,
              response={"type": "object", "properties": {"signals": {"type": "array", "items": {
                  "$ref": "#/components/schemas/PulledSignal"}}}}, errors=(400, 401, 409)),
    Operation("POST", "/api/terminals/ack", "Acknowledge executed / failed / rejected signals", "terminal",
              TERMINAL, AckBody, response={"type": "object", "properties": {"results": {"type": "array", "items": {
                  "type": "object", "properties": {"signalId": {"type": "string"}, "ok": {"type": "boolean"}}}}}},
              errors=(400, 401, 409, 413)),
    Operation("POST", "/api/terminals/positions", "Real holdings for drift monitoring", "terminal", TERMINAL,
              TerminalPositionsBody, 202, _obj, (400, 401, 409, 413)),
)  # fmt: skip

_ERROR_NAMES = {400: "VALIDATION_ERROR", 401: "UNAUTHORIZED", 404: "NOT_FOUND", 409: "DEVICE_TAKEN_OVER / CONFLICT",
                413: "PAYLOAD_TOO_LARGE", 429: "RATE_LIMITED"}  # fmt: skip


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def openapi_document(server_url: str = "/") -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
        }
    }
    pulled = QueuedSignal.model_json_schema(by_alias=True, mode="serialization")
    pulled["properties"]["ackToken"] = {"type": "string"}
    pulled["required"] = [*pulled.get("required", []), "ackToken"]
    schemas.update(pulled.pop("$defs", {}))
    schemas["PulledSignal"] = pulled
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        entry: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "responses": {}}
        entry["security"] = [{op.auth: []}] if op.auth else []
        params = [part[1:-1] for part in op.path.split("/") if part.startswith("{")]
        entry["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in params
        ]
        if op.path == "/api/terminals/pull":
            entry["parameters"] += [
                {"name": "wait", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 20}},
                {"name": "max", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10}},
                {"name": "X-Device-Fingerprint", "in": "header", "required": True,
                 "schema": {"type": "string", "minLength": 8, "maxLength": 128}},
            ]  # fmt: skip
        if op.request is not None:
            entry["requestBody"] = {
                "required": op.request is not SubscribeBody,
                "content": {"application/json": {"schema": _schema(op.request, schemas)}},
            }
        success: dict[str, Any] = {"description": "OK"}
        if op.response:
            success["content"] = {"application/json": {"schema": op.response}}
        entry["responses"][str(op.success)] = success
        if op.path == "/api/webhooks/joinquant/{strategyId}":
            entry["responses"]["200"] = {"description": "Duplicate: the same bytes were received before"}
        for status in op.errors:
            entry["responses"][str(status)] = {
                "description": _ERROR_NAMES[status],
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "QuantLink API", "version": __version__},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                OWNER: {"type": "http", "scheme": "bearer", "bearerFormat": "Cognito ID token"},
                WEBHOOK: {"type": "http", "scheme": "bearer", "description": "The strategy's webhook token"},
                TERMINAL: {"type": "http", "scheme": "bearer", "description": "The terminal's auth token"},
            },
        },
    }


if __name__ == "__main__":
    json.dump(openapi_document(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
