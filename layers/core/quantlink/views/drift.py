"""Drift answers (API.md "Drift"): a terminal's report for one trading day, its history, the sync send.
The report is also the stored record (dal/drift.py), so what the job stored is what the owner reads."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from quantlink.models import CamelModel, Side, Timestamp
from quantlink.views import Omitted, omitted


class DriftStatus(StrEnum):
    OK = "ok"
    DRIFT = "drift"
    MISSING_LEADER = "missing_leader"  # a followed strategy sent no position snapshot that day
    MISSING_TERMINAL = "missing_terminal"  # the terminal did not report its holdings that day
    NOT_A_TRADING_DAY = "not_a_trading_day"


class DriftRow(CamelModel):
    security: str  # exchange form
    expected_volume: int
    actual_volume: float
    diff_volume: float  # actual − expected
    expected_value: float
    actual_value: float
    expected_weight: float
    actual_weight: float
    within_lot_bound: bool
    price: float  # what the values use: the leader's snapshot price, else the terminal's cost price
    lot_bound: int  # the largest difference lot rounding alone explains (shares)


class SyncOrder(CamelModel):
    security: str
    side: Side
    amount: int
    strategy_id: str  # the followed strategy the order is sent under (its timeline shows it, origin sync)


class DriftReport(CamelModel):
    terminal_id: str
    date: date
    status: DriftStatus
    score: float = Field(ge=0, le=1)
    threshold: float
    rows: list[DriftRow]
    sync: list[SyncOrder]
    computed_at: Timestamp
    missing_strategies: list[str] = Field(default_factory=list)  # for missing_leader: which ones
    total_value: float = 0.0  # the terminal's, as reported (what weights and the score divide by)
    cash: float = 0.0
    provisional_calendar: bool | Omitted = omitted(
        "Only when the day's trading status rests on a holiday year derived before the exchanges' notice."
    )
    sync_sent_at: Timestamp | None = None


class DriftHistoryItem(CamelModel):
    date: date
    status: DriftStatus
    score: float
    threshold: float
    security: str | Omitted = omitted("Only with ?security=: that security's row of each day's report.")
    expected_volume: int | Omitted = omitted()
    actual_volume: float | Omitted = omitted()
    diff_volume: float | Omitted = omitted()
    within_lot_bound: bool | Omitted = omitted()


class DriftHistory(CamelModel):
    items: list[DriftHistoryItem]


class DriftThreshold(CamelModel):
    terminal_id: str
    threshold: float


class SyncSent(CamelModel):
    signals: int
    signal_ids: list[str]


class RobotView(CamelModel):
    kind: str
    url: str  # shown without its query (the access token / key stays secret)
    signed: bool


class DriftAlertsView(CamelModel):
    terminal_id: str
    email: str | None  # where alerts go (the owner's address when it set them)
    robots: list[RobotView]
