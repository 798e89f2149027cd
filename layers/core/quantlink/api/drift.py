"""Drift (API.md "Drift"): compute now, the stored report (latest or by date), per-security history,
the threshold, alert channels, and sending a report's sync orders to the terminal."""

from __future__ import annotations

from datetime import date

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from quantlink.api.deps import body, caller, deps, optional_body, owner_email, owner_id, query, respond
from quantlink.calendar import trading_calendar
from quantlink.drift import owner, service
from quantlink.errors import ValidationFailed
from quantlink.http import query_int
from quantlink.models import DriftAlertsBody, DriftComputeBody, DriftSyncBody, DriftThresholdBody
from quantlink.securities import normalize_security
from quantlink.timeutil import now

router = Router()


def _date_query(text: str | None) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not date(2000, 1, 1) <= day <= date(2100, 12, 31):
        raise ValidationFailed(
            "Query parameter 'date' must be a date, YYYY-MM-DD.",
            details=[{"field": "query.date", "message": "expected YYYY-MM-DD, 2000 to 2100"}],
        )
    return day


@router.post("/api/terminals/<terminalId>/drift")
def compute_drift(terminalId: str) -> Response[str]:  # noqa: N803 - the API's path parameter name
    request = optional_body(router, DriftComputeBody)
    report = owner.compute_now(
        deps(router).store, trading_calendar(), owner_id(router), terminalId, request.date, at=now()
    )
    return respond(200, report)


@router.get("/api/terminals/<terminalId>/drift")
def get_drift(terminalId: str) -> Response[str]:  # noqa: N803
    day = _date_query(query(router).get("date"))
    return respond(200, owner.stored_report(deps(router).store, owner_id(router), terminalId, day))


@router.get("/api/terminals/<terminalId>/drift/history")
def drift_history(terminalId: str) -> Response[str]:  # noqa: N803
    params = query(router)
    security = params.get("security") or None
    if security is not None:
        security = normalize_security(security)
        if security is None:
            raise ValidationFailed(
                "Query parameter 'security' must be a security code such as 600000.SH or 600000.XSHG.",
                details=[{"field": "query.security", "message": "malformed code"}],
            )
    days = query_int(params, "days", default=30, low=1, high=366)
    return respond(200, owner.history(deps(router).store, owner_id(router), terminalId, security=security, days=days))


@router.put("/api/terminals/<terminalId>/drift/threshold")
def set_threshold(terminalId: str) -> Response[str]:  # noqa: N803
    request = body(router, DriftThresholdBody)
    return respond(200, owner.set_threshold(deps(router).store, owner_id(router), terminalId, request.threshold))


@router.put("/api/terminals/<terminalId>/drift/alerts")
def set_alerts(terminalId: str) -> Response[str]:  # noqa: N803
    request = body(router, DriftAlertsBody)
    view = owner.set_alerts(deps(router).store, owner_id(router), owner_email(router), terminalId, request)
    return respond(200, view)


@router.post("/api/terminals/<terminalId>/drift/sync")
def send_sync(terminalId: str) -> Response[str]:  # noqa: N803
    request = body(router, DriftSyncBody)
    context = deps(router)
    sent = service.send_sync(
        context.store,
        context.queues,
        caller(router),
        terminalId,
        request.date,
        at=now(),
        dedup_ttl_seconds=context.settings.dedup_ttl_seconds,
    )
    return respond(202, sent)
