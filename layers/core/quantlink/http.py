"""API Gateway proxy events in, proxy responses out, for the hot-path functions (which skip the
Powertools resolver: ~60 ms of cold import for three routes). The owner API uses the resolver with the
same `parse_body`, `json_text`, `JSON_HEADERS` and `error_answer` (quantlink.api.deps), so every
function reads bodies, writes JSON and answers errors alike."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from quantlink.errors import (
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    QuantLinkError,
    ValidationFailed,
)
from quantlink.observability import logger

_M = TypeVar("_M", bound=BaseModel)
_E = TypeVar("_E", bound=StrEnum)
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}


def validation_details(error: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in problem["loc"]) or "body", "message": problem["msg"]}
        for problem in error.errors(include_url=False, include_context=False, include_input=False)
    ]


def parse_body(model: type[_M], raw: bytes | str, *, max_bytes: int) -> _M:
    """Size-capped, UTF-8, strict JSON, then the model: each failure is a clear 4xx, never a 500.

    Strict twice over: each field must be a JSON value of its own kind (no "17" for 17, no true for 1),
    and the body must be JSON as RFC 8259 has it (no duplicate keys, which parsers resolve differently,
    no NaN / Infinity literals)."""
    check_size(raw, max_bytes=max_bytes)
    if not raw:
        raise ValidationFailed("The request needs a JSON body.", details=[{"field": "body", "message": "empty"}])
    try:
        parsed = model.model_validate_json(raw, strict=True)
    except ValidationError as error:
        details = validation_details(error)
        if any(problem["type"] == "json_invalid" for problem in error.errors()):
            raise ValidationFailed("The body is not valid JSON.", details=details) from None
        raise ValidationFailed("The body does not match the schema.", details=details) from None
    check_strict_json(raw)
    return parsed


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        duplicate = next(key for key in keys if keys.count(key) > 1)
        raise _NotStrictJson(f"the key {duplicate!r} appears twice in one object")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise _NotStrictJson(f"{name} is not a JSON number")


class _NotStrictJson(ValueError):
    pass


def check_strict_json(raw: bytes | str) -> None:
    """Raises ValidationFailed for JSON that only a lenient parser takes (the model's parser already
    accepted the body's shape: this pass only looks for duplicate keys and non-finite literals)."""
    try:
        json.loads(raw, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except _NotStrictJson as problem:
        raise ValidationFailed(
            "The body is not strict JSON.", details=[{"field": "body", "message": str(problem)}]
        ) from None
    except (ValueError, RecursionError):  # too deep, or an integer past Python's digit limit
        raise ValidationFailed(
            "The body is not valid JSON.", details=[{"field": "body", "message": "not parseable"}]
        ) from None


def check_size(raw: bytes | str, *, max_bytes: int) -> None:
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"The body is larger than {max_bytes} bytes.")


def query_int(query: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        number = int(text)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise ValidationFailed(
            f"Query parameter {name!r} must be an integer from {low} to {high}.",
            details=[{"field": f"query.{name}", "message": f"expected {low}..{high}"}],
        )
    return number


def query_choice(query: Mapping[str, str], name: str, choices: type[_E]) -> _E | None:
    """An optional query parameter that must be one of an enum's values."""
    text = query.get(name)
    if text is None or text == "":
        return None
    try:
        return choices(text)
    except ValueError:
        allowed = ", ".join(choice.value for choice in choices)
        raise ValidationFailed(
            f"Query parameter {name!r} must be one of {allowed}.",
            details=[{"field": f"query.{name}", "message": f"expected one of {allowed}"}],
        ) from None


def bearer_token(headers: Mapping[str, str]) -> str | None:
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def json_text(payload: BaseModel | Mapping[str, Any] | None) -> str:
    """The one JSON encoding of every answer: compact, UTF-8 as is; a view model by its wire names."""
    if payload is None:
        return ""
    data = payload.model_dump(mode="json", by_alias=True) if isinstance(payload, BaseModel) else payload
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def error_answer(error: Exception) -> tuple[int, dict[str, Any]]:
    """The status and API.md error body for anything a route raised; a 5xx is logged with its stack."""
    known = error if isinstance(error, QuantLinkError) else None
    if known is None:
        logger.exception("unhandled error")
        known = QuantLinkError()
    elif known.status >= 500:
        logger.exception("request failed after it was accepted")
    return known.status, known.body()


def json_response(
    status: int, body: BaseModel | Mapping[str, Any] | None, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway proxy response (the hot path's twin of api.deps.respond, same encoding)."""
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": json_text(body),
        "isBase64Encoded": False,
    }


@dataclass(frozen=True)
class Request:
    """The parts of an API Gateway REST proxy event a handler reads."""

    method: str
    resource: str
    headers: dict[str, str]
    path_params: dict[str, str]
    query: dict[str, str]
    body: bytes
    request_id: str = ""
    claims: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Request:
        raw = event.get("body") or ""
        body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
        context = event.get("requestContext") or {}
        return cls(
            method=str(event.get("httpMethod", "")).upper(),
            resource=str(event.get("resource", "")),
            headers={k.lower(): v for k, v in (event.get("headers") or {}).items()},
            path_params=dict(event.get("pathParameters") or {}),
            query=dict(event.get("queryStringParameters") or {}),
            body=body,
            request_id=str(context.get("requestId", "")),
            claims=dict((context.get("authorizer") or {}).get("claims") or {}),
        )


Route = Callable[[Request], dict[str, Any]]


def dispatch(routes: Mapping[tuple[str, str], Route], event: Mapping[str, Any]) -> dict[str, Any]:
    """Find the route by API Gateway's resource template, run it, and map every domain error."""
    try:
        request = Request.from_event(event)
        route = routes.get((request.method, request.resource))
        if route is None:
            if any(resource == request.resource for _, resource in routes):
                raise MethodNotAllowed()
            raise NotFound("No such route.")
        return route(request)
    except Exception as error:  # noqa: BLE001 - every error becomes the API.md body, never a stack trace
        status, body = error_answer(error)
        return json_response(status, body, error.headers() if isinstance(error, QuantLinkError) else None)
