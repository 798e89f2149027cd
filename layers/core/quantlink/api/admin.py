"""The audit log (every user reads its own; admins read all) and the admin routes: settings, users,
plans."""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from quantlink.api.deps import audit, body, caller, deps, query, respond
from quantlink.errors import ValidationFailed
from quantlink.http import query_int
from quantlink.sharing import users
from quantlink.sharing.audit import AuditQuery, read_audit
from quantlink.sharing.records import SetPlanBody, SettingsBody
from quantlink.timeutil import parse_iso

router = Router()


def _time(name: str) -> datetime | None:
    text = query(router).get(name)
    if not text:
        return None
    try:
        return parse_iso(text).astimezone(UTC)  # a year-1 or year-9999 time with an offset overflows here
    except (ValueError, OverflowError):
        raise ValidationFailed(
            f"Query parameter {name!r} must be an ISO 8601 time with offset.",
            details=[{"field": f"query.{name}", "message": "not an ISO 8601 time with offset"}],
        ) from None


@router.get("/api/audit")
def read() -> Response[str]:
    given = query(router)
    request = AuditQuery(
        strategy_id=given.get("strategyId") or None,
        actor=given.get("actor") or None,
        action=given.get("action") or None,
        since=_time("since"),
        until=_time("until"),
        limit=query_int(given, "limit", default=50, low=1, high=200),
        cursor=given.get("cursor") or None,
    )
    return respond(200, read_audit(deps(router).store, caller(router), request))


@router.get("/api/admin/settings")
def get_settings() -> Response[str]:
    return respond(200, users.get_settings(deps(router).store, caller(router)))


@router.put("/api/admin/settings")
def put_settings() -> Response[str]:
    request = body(router, SettingsBody)
    return respond(200, users.update_settings(deps(router).store, audit(router), caller(router), request))


@router.get("/api/admin/users")
def list_users() -> Response[str]:
    return respond(200, users.list_users(deps(router).store, caller(router)))


@router.put("/api/admin/users/<userId>/plan")
def set_plan(userId: str) -> Response[str]:  # noqa: N803 - the API's path parameter name
    request = body(router, SetPlanBody)
    view = users.set_plan(deps(router).store, audit(router), caller(router), userId, request.plan)
    return respond(200, view)
