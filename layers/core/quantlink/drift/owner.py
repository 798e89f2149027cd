"""The owner's drift operations (API.md "Drift"), on the owner's own terminals only (another owner's
terminal answers NOT_FOUND, like a missing one)."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit

from quantlink.calendar import TradingCalendar
from quantlink.dal.ports import DriftJobStore
from quantlink.drift import service
from quantlink.errors import NotFound
from quantlink.models import DriftAlertsBody
from quantlink.views.drift import (
    DriftAlertsView,
    DriftHistory,
    DriftHistoryItem,
    DriftReport,
    DriftThreshold,
    RobotView,
)


def compute_now(
    store: DriftJobStore, calendar: TradingCalendar, owner_id: str, terminal_id: str, day: date | None, *, at: datetime
) -> DriftReport:
    terminal = service.owned_terminal(store, owner_id, terminal_id)
    chosen = day or service.default_day(store, calendar, terminal_id, at)
    return service.compute(store, calendar, terminal, chosen, at=at)


def stored_report(store: DriftJobStore, owner_id: str, terminal_id: str, day: date | None) -> DriftReport:
    service.owned_terminal(store, owner_id, terminal_id)
    report = store.get_drift_report(terminal_id, day)
    if report is None:
        raise NotFound("No drift report for this terminal" + (f" on {day.isoformat()}." if day else " yet."))
    return report


def history(store: DriftJobStore, owner_id: str, terminal_id: str, *, security: str | None, days: int) -> DriftHistory:
    service.owned_terminal(store, owner_id, terminal_id)
    items = []
    for report in store.drift_history(terminal_id, limit=days):
        item = DriftHistoryItem(date=report.date, status=report.status, score=report.score, threshold=report.threshold)
        if security is not None:
            row = next((r for r in report.rows if r.security == security), None)
            item = item.model_copy(
                update={
                    "security": security,
                    "expected_volume": row.expected_volume if row else 0,
                    "actual_volume": row.actual_volume if row else 0.0,
                    "diff_volume": row.diff_volume if row else 0.0,
                    "within_lot_bound": row.within_lot_bound if row else True,
                }
            )
        items.append(item)
    return DriftHistory(items=items)


def set_threshold(store: DriftJobStore, owner_id: str, terminal_id: str, threshold: float) -> DriftThreshold:
    service.owned_terminal(store, owner_id, terminal_id)
    settings = store.get_drift_settings(terminal_id)
    store.put_drift_settings(terminal_id, {**settings, "threshold": threshold})
    return DriftThreshold(terminal_id=terminal_id, threshold=threshold)


def set_alerts(
    store: DriftJobStore, owner_id: str, owner_email: str | None, terminal_id: str, body: DriftAlertsBody
) -> DriftAlertsView:
    service.owned_terminal(store, owner_id, terminal_id)
    settings = store.get_drift_settings(terminal_id)
    robots = [r.model_dump(mode="json", exclude_none=True) for r in body.robots]
    email = owner_email if body.email else None
    store.put_drift_settings(terminal_id, {**settings, "email": email, "emailAlerts": body.email, "robots": robots})
    return alerts_view(terminal_id, email, robots)


def alerts_view(terminal_id: str, email: str | None, robots: list[dict[str, str]]) -> DriftAlertsView:
    shown = []
    for robot in robots:
        parts = urlsplit(robot["url"])
        shown.append(RobotView(kind=robot["kind"], url=f"{parts.scheme}://{parts.netloc}{parts.path}",
                               signed=bool(robot.get("secret"))))  # fmt: skip
    return DriftAlertsView(terminal_id=terminal_id, email=email, robots=shown)
