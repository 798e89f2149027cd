"""The holdings report: the account's real positions, posted for drift checks after the close."""

from __future__ import annotations

import logging
from datetime import time
from typing import Any

from quantlink_terminal.calendar import MarketCalendar, market_calendar
from quantlink_terminal.client import ApiError, DeviceTakenOver, QuantLinkClient, TransientError, Unauthorized
from quantlink_terminal.clock import Clock, system_clock, to_iso
from quantlink_terminal.executions import ExecutionJournal
from quantlink_terminal.executors.base import AccountSnapshot, Executor

log = logging.getLogger(__name__)

REPORTED_ON_KEY = "positions_reported_on"
RETRY_AFTER_SECONDS = 300
DEFAULT_AFTER_CLOSE = time(15, 5)  # the server compares holdings with JoinQuant's after 15:05


def holdings_report(account: AccountSnapshot, as_of: str) -> dict[str, Any]:
    """The API.md body of POST /api/terminals/positions."""
    return {
        "asOf": as_of,
        "positions": [
            {"security": security, "volume": holding.volume, "avgPrice": round(holding.avg_price, 4)}
            for security, holding in sorted(account.holdings.items())
            if holding.volume > 0
        ],
        "cash": round(account.cash, 2),
        "totalAsset": round(account.total_asset, 2),
    }


class HoldingsReporter:
    def __init__(
        self,
        client: QuantLinkClient,
        executor: Executor,
        journal: ExecutionJournal,
        after_close: time | None = DEFAULT_AFTER_CLOSE,
        clock: Clock = system_clock,
        calendar: MarketCalendar | None = None,
    ) -> None:
        self._client = client
        self._executor = executor
        self._journal = journal
        self._after_close = after_close
        self._clock = clock
        self._calendar = calendar or market_calendar()
        self._retry_at: float | None = None

    def report_now(self) -> dict[str, Any]:
        report = holdings_report(self._executor.account(), to_iso(self._clock()))
        self._client.post_positions(report)
        return report

    def report_if_due(self) -> bool:
        """Post once per trading day after the close; True if a report went out now."""
        if self._after_close is None:
            return False
        now = self._clock()
        today = now.date().isoformat()
        if now.time() < self._after_close or not self._calendar.is_trading_day(now.date()):
            return False
        if self._journal.get_meta(REPORTED_ON_KEY) == today:
            return False
        if self._retry_at is not None and now.timestamp() < self._retry_at:
            return False
        try:
            report = self.report_now()
        except (Unauthorized, DeviceTakenOver):
            raise
        except TransientError as exc:
            log.warning("holdings report failed (%s); retrying in %d s", exc, RETRY_AFTER_SECONDS)
            self._retry_at = now.timestamp() + RETRY_AFTER_SECONDS
            return False
        except ApiError as exc:
            # The server refused the body: retrying the same body would fail the same way.
            log.error("holdings report refused by the server (%s); not retrying today", exc)
            self._journal.set_meta(REPORTED_ON_KEY, today)
            return False
        self._journal.set_meta(REPORTED_ON_KEY, today)
        log.info(
            "holdings reported: %d positions, total asset %.2f",
            len(report["positions"]),
            report["totalAsset"],
        )
        return True
