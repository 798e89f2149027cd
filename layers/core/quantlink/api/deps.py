"""What every owner-API route needs: the function's Runtime (set per invocation by the function), the
caller's identity from the Cognito authorizer, the request body, and JSON responses, encoded and
error-mapped exactly as the hot path's (quantlink.http)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel

from quantlink.dal.mail import SesMailer
from quantlink.errors import Unauthorized
from quantlink.http import JSON_HEADERS, error_answer, json_text, parse_body
from quantlink.runtime import Runtime
from quantlink.settings import OwnerApiSettings
from quantlink.sharing.audit import Audit
from quantlink.sharing.users import ADMIN_GROUP, Caller, PlanLimits, ensure_user, groups_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

_M = TypeVar("_M", bound=BaseModel)
OwnerRuntime = Runtime[OwnerApiSettings]


def deps(router: Router) -> OwnerRuntime:
    found: OwnerRuntime = router.context["deps"]
    return found


def _event(router: Router) -> APIGatewayProxyEvent:
    event: APIGatewayProxyEvent = router.current_event  # type: ignore[assignment]
    return event


def caller(router: Router) -> Caller:
    """The signed-in user, its record created on its first call (once per request)."""
    known: Caller | None = router.context.get("caller")
    if known is not None:
        return known
    event = _event(router)
    claims = event.request_context.authorizer.claims or {}
    subject = claims.get("sub")
    if not subject:
        raise Unauthorized()
    found = Caller(
        user_id=str(subject),
        email=str(claims.get("email") or ""),
        admin=ADMIN_GROUP in groups_of(claims.get("cognito:groups")),
        request_id=event.request_context.request_id,
        source_ip=event.request_context.identity.source_ip,
    )
    ensure_user(deps(router).store, found)
    router.append_context(caller=found)
    return found


def owner_id(router: Router) -> str:
    return caller(router).user_id


def audit(router: Router) -> Audit:
    return Audit(deps(router).store, caller(router))


def plan_limits(router: Router) -> PlanLimits:
    settings = deps(router).settings
    return PlanLimits(
        shares=settings.pro_max_shares,
        recipients_per_strategy=settings.pro_max_recipients_per_strategy,
        bundles=settings.pro_max_bundles,
        groups=settings.pro_max_groups,
    )


def mailer(router: Router) -> SesMailer:
    return SesMailer(deps(router).settings.mail_from)


def owner_email(router: Router) -> str | None:
    """The caller's verified address from its IdToken (where its alerts go), if the token has one."""
    claims = _event(router).request_context.authorizer.claims or {}
    email = claims.get("email")
    return str(email) if email else None


def raw_body(router: Router) -> bytes:
    event = router.current_event
    text = event.body or ""
    return base64.b64decode(text) if event.is_base64_encoded else text.encode("utf-8")


def body(router: Router, model: type[_M]) -> _M:
    return parse_body(model, raw_body(router), max_bytes=deps(router).settings.max_body_bytes)


def optional_body(router: Router, model: type[_M]) -> _M:
    return body(router, model) if raw_body(router).strip() else model()


def query(router: Router) -> Mapping[str, str]:
    return router.current_event.query_string_parameters or {}


def api_base(router: Router) -> str:
    """The public base URL as the caller reached us (stage, custom domain or the local emulator)."""
    event = _event(router)
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    scheme = headers.get("x-forwarded-proto", "https")
    full_path = event.request_context.path or event.path
    prefix = full_path[: len(full_path) - len(event.path)] if full_path.endswith(event.path) else ""
    return f"{scheme}://{headers.get('host', 'localhost')}{prefix}"


def respond(status: int, payload: BaseModel | Mapping[str, Any] | None = None) -> Response[str]:
    return Response(status_code=status, headers=dict(JSON_HEADERS), body=json_text(payload))


def error_response(error: Exception) -> Response[str]:
    return respond(*error_answer(error))
