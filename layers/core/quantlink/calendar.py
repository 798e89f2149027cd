"""The A-share trading calendar (Shanghai, Shenzhen and Beijing keep one schedule): which days trade.

Days the `exchange_calendars` package knows come from its XSHG calendar (maintained, offline); later
days come from data/market_holidays.json, a byte-identical copy of the terminal agent's file (one truth
for the weekday closures, which tests/unit/test_trading_calendar.py checks against XSHG year by year).
Weekends never trade. Past the last year either source knows, `TradingCalendar.is_trading_day` raises
`CalendarExhausted` rather than guess; a test fails 60 days before that happens.

Updating (one line per year): when the exchanges publish a year's 休市安排 notice, add that year's line to
terminal/quantlink_terminal/data/market_holidays.json and copy the file here:
`cp terminal/quantlink_terminal/data/market_holidays.json layers/core/quantlink/data/` (or upgrade
exchange_calendars in constraints.txt once it covers the year).
"""

from __future__ import annotations

import json
import pkgutil
import warnings
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")
HOLIDAYS_RESOURCE = "data/market_holidays.json"
CLOSE = time(15, 0)
_SEARCH_DAYS = 40  # the longest closure (Spring Festival and its weekends) is far shorter


class CalendarExhausted(LookupError):
    """Asked about a day past every source's data: update the holiday file (see the module docstring)."""


@dataclass(frozen=True)
class TradingCalendar:
    """`package_last` is the last day XSHG knows (None: package absent); `closed` the file's weekday
    closures by year; `provisional` the file's years derived from the holiday rules before the notice."""

    package_sessions: frozenset[date]
    package_first: date | None
    package_last: date | None
    closed: dict[int, frozenset[date]]
    provisional: frozenset[int]

    @property
    def last_known_day(self) -> date:
        """The last day this calendar can answer for."""
        file_last = date(max(self.closed), 12, 31) if self.closed else date.min
        return max(file_last, self.package_last or date.min)

    def is_trading_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        if self.package_first and self.package_last and self.package_first <= day <= self.package_last:
            return day in self.package_sessions
        if day.year in self.closed:
            return day not in self.closed[day.year]
        raise CalendarExhausted(
            f"no trading calendar data for {day.isoformat()}: add {day.year} to "
            "terminal/quantlink_terminal/data/market_holidays.json and copy it to layers/core/quantlink/data/"
        )

    def is_provisional(self, day: date) -> bool:
        """True when the answer for `day` rests on a year derived before the exchanges' notice."""
        in_package = self.package_last is not None and day <= self.package_last
        return not in_package and day.year in self.provisional

    def previous_trading_day(self, day: date) -> date:
        """The last trading day strictly before `day`."""
        for back in range(1, _SEARCH_DAYS):
            candidate = day - timedelta(days=back)
            if self.is_trading_day(candidate):
                return candidate
        raise CalendarExhausted(f"no trading day within {_SEARCH_DAYS} days before {day.isoformat()}")

    def next_trading_day(self, day: date) -> date:
        """The first trading day strictly after `day`."""
        for ahead in range(1, _SEARCH_DAYS):
            candidate = day + timedelta(days=ahead)
            if self.is_trading_day(candidate):
                return candidate
        raise CalendarExhausted(f"no trading day within {_SEARCH_DAYS} days after {day.isoformat()}")

    def latest_closed_session(self, moment: datetime) -> date:
        """The most recent trading day whose session has closed at `moment` (15:00 China time)."""
        local = moment.astimezone(CHINA_TZ)
        today = local.date()
        if self.is_trading_day(today) and local.time() >= CLOSE:
            return today
        return self.previous_trading_day(today)


def china_date(moment: datetime) -> date:
    return moment.astimezone(CHINA_TZ).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a China calendar day, as aware datetimes."""
    start = datetime.combine(day, time(0), tzinfo=CHINA_TZ)
    return start, start + timedelta(days=1)


def parse_holiday_file(text: str) -> tuple[dict[int, frozenset[date]], frozenset[int]]:
    years: dict[str, Any] = json.loads(text)["years"]
    closed = {int(year): frozenset(date.fromisoformat(d) for d in entry["closed"]) for year, entry in years.items()}
    provisional = frozenset(int(year) for year, entry in years.items() if entry.get("provisional", False))
    for year, days in closed.items():
        if any(d.year != year or d.weekday() >= 5 for d in days):
            raise ValueError(f"{HOLIDAYS_RESOURCE}: {year} lists a weekend or a day of another year")
    return closed, provisional


def _xshg_sessions() -> tuple[frozenset[date], date | None, date | None]:
    with warnings.catch_warnings():  # the package's own pandas deprecation notices are not ours to fix
        warnings.simplefilter("ignore")
        try:
            import exchange_calendars  # heavy (pandas): imported on first use, by the scheduled jobs only
        except ImportError:  # a build without the package still answers from the file
            return frozenset(), None, None
        xshg = exchange_calendars.get_calendar("XSHG")
        sessions = frozenset(s.date() for s in xshg.sessions)
        return sessions, xshg.first_session.date(), xshg.last_session.date()


@cache
def trading_calendar() -> TradingCalendar:
    """The calendar, built once per process."""
    raw = pkgutil.get_data("quantlink", HOLIDAYS_RESOURCE)
    if raw is None:
        raise CalendarExhausted(f"{HOLIDAYS_RESOURCE} is missing from the package")
    closed, provisional = parse_holiday_file(raw.decode("utf-8"))
    sessions, first, last = _xshg_sessions()
    return TradingCalendar(sessions, first, last, closed, provisional)
