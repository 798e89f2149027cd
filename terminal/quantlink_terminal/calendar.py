"""The A-share trading calendar: which days the exchanges open and when their sessions run.

Weekends are always closed; weekday closures come from one shipped data file, data/market_holidays.json
(one line per year, from the exchanges' 休市安排 notices). A year marked provisional was derived from the
holiday rules before its notice was out: the agent relies on it, and says so once.
"""

from __future__ import annotations

import json
import logging
import pkgutil
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Callable, Mapping

from quantlink_terminal.clock import CHINA_TZ, parse_date

log = logging.getLogger(__name__)

HOLIDAYS_RESOURCE = "data/market_holidays.json"
# Continuous trading, China time (the call auction from 09:15 is not counted as trading hours).
SESSIONS = ((time(9, 30), time(11, 30)), (time(13, 0), time(15, 0)))
UPDATE_HINT = (
    "update terminal/quantlink_terminal/data/market_holidays.json from the exchanges' 休市安排 notice "
    "(see terminal/README.md, Trading calendar), or upgrade quantlink-terminal"
)


class CalendarDataError(ValueError):
    """The shipped holiday file is malformed (a packaging mistake, not a trader's)."""


@dataclass
class MarketCalendar:
    closed: Mapping[int, frozenset[date]]  # year -> weekdays the exchanges are closed
    provisional: frozenset[int] = frozenset()
    warn: Callable[[str], None] = log.warning
    _warned: set[int] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def is_trading_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        self._note_data_quality(day.year)
        return day not in self.closed.get(day.year, frozenset())

    def in_session(self, moment: datetime) -> bool:
        """True while continuous trading runs (09:30-11:30, 13:00-15:00 China time on a trading day)."""
        local = moment.astimezone(CHINA_TZ)
        if not self.is_trading_day(local.date()):
            return False
        now = local.time()
        return any(start <= now < end for start, end in SESSIONS)

    def next_open(self, moment: datetime) -> datetime:
        """The start of the next session at or after `moment` (China time)."""
        local = moment.astimezone(CHINA_TZ)
        day = local.date()
        for _ in range(40):  # the longest closure (Spring Festival plus weekends) is far shorter
            if self.is_trading_day(day):
                for start, _end in SESSIONS:
                    opening = datetime.combine(day, start).replace(tzinfo=CHINA_TZ)
                    if opening >= local:
                        return opening
            day += timedelta(days=1)
            local = datetime.combine(day, time(0)).replace(tzinfo=CHINA_TZ)
        raise CalendarDataError(f"no trading day within 40 days of {moment.date()}")

    def _note_data_quality(self, year: int) -> None:
        """Say once per year when the answer rests on provisional or missing data."""
        if year not in self.provisional and year in self.closed:
            return
        with self._lock:
            if year in self._warned:
                return
            self._warned.add(year)
        if year in self.provisional:
            self.warn(
                f"the market holidays of {year} are provisional (derived from the holiday rules before the "
                f"exchanges published {year}'s schedule); {UPDATE_HINT} | {year} 年休市安排为推算值，"
                "交易所公布正式安排后请更新"
            )
        else:
            self.warn(
                f"no market holiday data for {year}: every weekday counts as a trading day; {UPDATE_HINT} | "
                f"缺少 {year} 年休市安排，所有工作日均按交易日处理"
            )


def parse_holidays(text: str, warn: Callable[[str], None] = log.warning) -> MarketCalendar:
    try:
        years = json.loads(text)["years"]
        closed: dict[int, frozenset[date]] = {}
        provisional = set()
        for year_text, entry in years.items():
            year = int(year_text)
            days = frozenset(parse_date(day) for day in entry["closed"])
            if any(day.year != year or day.weekday() >= 5 for day in days):
                raise ValueError(f"{year} lists a weekend day or a day of another year")
            closed[year] = days
            if entry.get("provisional", False):
                provisional.add(year)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CalendarDataError(f"malformed {HOLIDAYS_RESOURCE}: {exc}") from exc
    return MarketCalendar(closed=closed, provisional=frozenset(provisional), warn=warn)


@lru_cache(maxsize=1)
def market_calendar() -> MarketCalendar:
    """The calendar shipped with the package (read once)."""
    raw = pkgutil.get_data("quantlink_terminal", HOLIDAYS_RESOURCE)
    if raw is None:
        raise CalendarDataError(f"{HOLIDAYS_RESOURCE} is missing from the package")
    return parse_holidays(raw.decode("utf-8"))
