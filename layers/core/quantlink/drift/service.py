"""Drift operations: compute (and store) a terminal's report for a day, the daily job over every
terminal with alerts past the threshold, and sending a report's sync orders as signals."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from quantlink import relay
from quantlink.calendar import CalendarExhausted, TradingCalendar, china_date, day_bounds
from quantlink.dal.ports import DriftJobStore, RelayQueues
from quantlink.drift.alerts import Alert, Post, drift_alert, post_json, send_to_robots
from quantlink.drift.compute import Followed, drift_report
from quantlink.errors import NotFound, ValidationFailed
from quantlink.ids import new_signal_id
from quantlink.models import Leader, Origin, SignalRecord, SignalStatus, Terminal
from quantlink.observability import logger
from quantlink.securities import to_source_form
from quantlink.sharing.audit import Audit
from quantlink.sharing.users import SYSTEM, Caller
from quantlink.timeutil import epoch_ms
from quantlink.views.drift import DriftReport, DriftStatus, SyncSent

DEFAULT_THRESHOLD = 0.05
_LOOKBACK_TRADING_DAYS = 10
SYNC_TTL = timedelta(hours=24)  # a sync sent after the close is still deliverable at the next open
SYNC_SIZING = {"mode": "fixed", "multiplier": 1.0}  # an exact share count, whatever the subscription says

Mailer = Callable[[str, Alert], None]  # (to address, alert)


def owned_terminal(store: DriftJobStore, owner_id: str, terminal_id: str) -> Terminal:
    terminal = store.get_terminal(terminal_id)
    if terminal is None or terminal.owner_id != owner_id:
        raise NotFound("No such terminal.")
    return terminal


def threshold_of(store: DriftJobStore, terminal_id: str) -> float:
    return float(store.get_drift_settings(terminal_id).get("threshold", DEFAULT_THRESHOLD))


def compute(
    store: DriftJobStore, calendar: TradingCalendar, terminal: Terminal, day: date, *, at: datetime
) -> DriftReport:
    """The report of `day` from what was reported that China calendar day, stored (replacing an earlier one)."""
    try:
        trading = calendar.is_trading_day(day)
    except CalendarExhausted as exhausted:
        raise ValidationFailed(str(exhausted), details=[{"field": "date", "message": "past the calendar"}]) from None
    since, until = day_bounds(day)
    holdings = store.latest_terminal_positions(terminal.terminal_id, since=since, until=until) if trading else None
    followed = [
        Followed(s.strategy_id, s.sizing, store.latest_leader_positions(s.strategy_id, since=since, until=until))
        for s in store.subscriptions_of_terminal(terminal.terminal_id)
    ] if trading else []  # fmt: skip
    report = drift_report(
        terminal.terminal_id,
        day,
        trading_day=trading,
        holdings=holdings,
        followed=followed,
        threshold=threshold_of(store, terminal.terminal_id),
        at=at,
        provisional_calendar=calendar.is_provisional(day),
    )
    store.put_drift_report(report)
    return report


def default_day(store: DriftJobStore, calendar: TradingCalendar, terminal_id: str, at: datetime) -> date:
    """The latest trading day (closed by `at`) the terminal reported holdings for, else the latest closed."""
    day = calendar.latest_closed_session(at)
    latest = day
    for _ in range(_LOOKBACK_TRADING_DAYS):
        since, until = day_bounds(day)
        if store.latest_terminal_positions(terminal_id, since=since, until=until) is not None:
            return day
        day = calendar.previous_trading_day(day)
    return latest


@dataclass(frozen=True)
class AlertChannels:
    mailer: Mailer | None  # None: no email configured for this deployment
    post: Post = post_json


def alert(
    store: DriftJobStore, terminal: Terminal, report: DriftReport, channels: AlertChannels, *, at: datetime
) -> bool:
    """Email the owner and post to its robots, once per terminal and day (a re-run sends nothing)."""
    settings = store.get_drift_settings(terminal.terminal_id)
    if settings.get("alertedFor") == report.date.isoformat():
        return False
    message = drift_alert(report, terminal.name)
    emailed = False
    email = settings.get("email")
    if email and settings.get("emailAlerts", True) and channels.mailer is not None:
        try:
            channels.mailer(str(email), message)
            emailed = True
        except Exception as error:  # noqa: BLE001 - an alert channel failing must not stop the job
            logger.warning("drift alert email failed", extra={"error": repr(error)})
    robots = send_to_robots(list(settings.get("robots", [])), message, now_ms=epoch_ms(at), post=channels.post)
    store.put_drift_settings(terminal.terminal_id, {**settings, "alertedFor": report.date.isoformat()})
    Audit(store, SYSTEM).record(
        "drift.alert_sent", "terminal", terminal.terminal_id, owner_id=terminal.owner_id, at=at,
        after={"date": report.date.isoformat(), "score": report.score, "email": emailed, "robots": robots},
    )  # fmt: skip
    return True


def run_daily(
    store: DriftJobStore, calendar: TradingCalendar, channels: AlertChannels, *, at: datetime
) -> dict[str, Any]:
    """Every terminal that follows a strategy, for today (China time), if today trades."""
    day = china_date(at)
    if not calendar.is_trading_day(day):
        return {"date": day.isoformat(), "status": DriftStatus.NOT_A_TRADING_DAY.value, "terminals": 0}
    counts: dict[str, int] = {}
    alerted = 0
    for terminal_id in store.terminal_ids():
        terminal = store.get_terminal(terminal_id)
        if terminal is None or not store.subscribed_strategy_ids(terminal_id):
            continue
        try:
            report = compute(store, calendar, terminal, day, at=at)
        except Exception:  # noqa: BLE001 - one terminal's failure must not cost the others their report
            logger.exception("drift report failed", extra={"terminal_id": terminal_id})
            counts["failed"] = counts.get("failed", 0) + 1
            continue
        counts[report.status.value] = counts.get(report.status.value, 0) + 1
        if report.status == DriftStatus.DRIFT and alert(store, terminal, report, channels, at=at):
            alerted += 1
    return {"date": day.isoformat(), "statuses": counts, "alerted": alerted}


def _sync_signal(terminal_id: str, report: DriftReport, index: int, at: datetime) -> SignalRecord:
    order = report.sync[index]
    row = next((r for r in report.rows if r.security == order.security), None)
    closing = row is not None and row.expected_volume == 0 and order.side == "sell"
    dedup = hashlib.sha256(
        f"sync:{terminal_id}:{report.date.isoformat()}:{index}:{order.security}:{order.side}:{order.amount}".encode()
    ).hexdigest()
    return SignalRecord(
        signal_id=new_signal_id(epoch_ms(at)),
        strategy_id=order.strategy_id,
        status=SignalStatus.RECEIVED,
        origin=Origin.SYNC,
        target_terminal_id=terminal_id,
        sizing=dict(SYNC_SIZING),
        seq=index,
        security=order.security,
        source_security=to_source_form(order.security),
        side=order.side,
        amount=order.amount,
        price=row.price if row and row.price > 0 else None,
        style="market",
        leader=Leader(total_value=None, position_after=0 if closing else None),
        dedup_key=dedup,
        received_at=at,
        expires_at=at + SYNC_TTL,
    )


def send_sync(
    store: DriftJobStore,
    queues: RelayQueues,
    caller: Caller,
    terminal_id: str,
    day: date,
    *,
    at: datetime,
    dedup_ttl_seconds: int,
) -> SyncSent:
    """The stored report's sync orders, sent once to this terminal only, as signals `origin: sync`."""
    terminal = owned_terminal(store, caller.user_id, terminal_id)
    report = store.get_drift_report(terminal_id, day)
    if report is None:
        raise NotFound("No drift report for that day; compute one first.")
    subscribed = set(store.subscribed_strategy_ids(terminal_id))
    if not report.sync:
        return SyncSent(signals=0, signal_ids=[])
    if any(order.strategy_id not in subscribed for order in report.sync):
        raise ValidationFailed(
            "The terminal no longer follows a strategy this sync was computed for; compute the report again.",
            details=[{"field": "date", "message": "stale report"}],
        )
    signals = [_sync_signal(terminal_id, report, i, at) for i in range(len(report.sync))]
    store.record_sync_batch(terminal_id, day, signals, at=at, dedup_ttl_seconds=dedup_ttl_seconds)
    Audit(store, caller).record(
        "drift.sync_sent", "terminal", terminal_id, owner_id=terminal.owner_id, at=at,
        after={"date": day.isoformat(), "orders": [o.wire() for o in report.sync]},
    )  # fmt: skip
    subscriptions = {s.strategy_id: s for s in store.subscriptions_of_terminal(terminal.terminal_id)}
    for signal in signals:  # sells first, as listed; a failure here is finished by the sweeper
        try:
            relay.fan_out(store, queues, signal, subscriptions=[subscriptions[signal.strategy_id]])
        except Exception:  # noqa: BLE001 - recorded RECEIVED: the sweep re-drives it to this terminal only
            logger.warning("sync fan-out failed; the sweeper retries", extra={"signal_id": signal.signal_id})
    return SyncSent(signals=len(signals), signal_ids=[s.signal_id for s in signals])
