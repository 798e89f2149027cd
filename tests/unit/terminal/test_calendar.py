"""The trading calendar: the shipped holiday file, sessions, and the warning for provisional years."""

from __future__ import annotations

import json
import pkgutil
from datetime import UTC, date, datetime, timedelta

import pytest

from quantlink_terminal.calendar import (
    HOLIDAYS_RESOURCE,
    CalendarDataError,
    MarketCalendar,
    market_calendar,
    parse_holidays,
)
from quantlink_terminal.clock import CHINA_TZ


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def raw_file() -> str:
    raw = pkgutil.get_data("quantlink_terminal", HOLIDAYS_RESOURCE)
    assert raw is not None
    return raw.decode("utf-8")


def trading_days(calendar: MarketCalendar, year: int) -> int:
    day, count = date(year, 1, 1), 0
    while day.year == year:
        count += calendar.is_trading_day(day)
        day += timedelta(days=1)
    return count


def quiet() -> MarketCalendar:
    return parse_holidays(raw_file(), warn=lambda message: None)


def test_the_shipped_years_match_the_exchanges_published_day_counts() -> None:
    calendar = quiet()
    assert trading_days(calendar, 2024) == 242
    assert trading_days(calendar, 2025) == 243


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        ("2026-02-13", True),  # the Friday before the Spring Festival
        ("2026-02-14", False),  # a make-up workday for offices, but a Saturday: the exchanges stay closed
        ("2026-02-16", False),
        ("2026-02-23", False),
        ("2026-02-24", True),
        ("2025-10-08", False),
        ("2025-10-09", True),
        ("2024-02-09", False),  # 除夕 is closed since 2024
        ("2026-06-19", False),
        ("2026-11-20", True),
        ("2026-11-21", False),
    ],
)
def test_trading_days(day: str, open_: bool) -> None:
    assert quiet().is_trading_day(date.fromisoformat(day)) is open_


@pytest.mark.parametrize(
    ("moment", "in_session"),
    [
        ("2026-11-20T09:15:00", False),  # call auction, not continuous trading
        ("2026-11-20T09:29:59", False),
        ("2026-11-20T09:30:00", True),
        ("2026-11-20T11:29:59", True),
        ("2026-11-20T11:30:00", False),
        ("2026-11-20T13:00:00", True),
        ("2026-11-20T14:59:59", True),
        ("2026-11-20T15:00:00", False),
        ("2026-10-05T10:00:00", False),  # National Day holiday
    ],
)
def test_sessions(moment: str, in_session: bool) -> None:
    assert quiet().in_session(at(moment)) is in_session


def test_in_session_takes_any_offset() -> None:
    assert quiet().in_session(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    assert not quiet().in_session(datetime(2026, 11, 20, 10, 0, tzinfo=UTC))  # 18:00 there


@pytest.mark.parametrize(
    ("moment", "opening"),
    [
        ("2026-11-20T12:00:00", "2026-11-20T13:00:00"),
        ("2026-11-20T15:30:00", "2026-11-23T09:30:00"),
        ("2026-02-13T16:00:00", "2026-02-24T09:30:00"),
        ("2026-11-23T09:30:00", "2026-11-23T09:30:00"),
    ],
)
def test_next_open(moment: str, opening: str) -> None:
    assert quiet().next_open(at(moment)) == at(opening)


def test_a_provisional_year_is_used_and_said_once() -> None:
    warnings: list[str] = []
    calendar = parse_holidays(raw_file(), warn=warnings.append)
    assert 2027 in calendar.provisional
    assert not calendar.is_trading_day(date(2027, 10, 4))
    assert calendar.is_trading_day(date(2027, 10, 8))
    assert not calendar.is_trading_day(date(2027, 2, 10))
    assert len(warnings) == 1 and "2027" in warnings[0] and "provisional" in warnings[0] and "推算" in warnings[0]
    calendar.is_trading_day(date(2026, 3, 2))
    assert len(warnings) == 1  # an official year says nothing


def test_a_year_without_data_treats_weekdays_as_trading_days_and_says_so_once() -> None:
    warnings: list[str] = []
    calendar = parse_holidays(raw_file(), warn=warnings.append)
    assert calendar.is_trading_day(date(2031, 10, 1)) and not calendar.is_trading_day(date(2031, 10, 4))
    calendar.is_trading_day(date(2031, 10, 2))
    assert len(warnings) == 1 and "no market holiday data for 2031" in warnings[0]


def test_the_file_keeps_one_line_per_year_and_only_weekdays() -> None:
    text = raw_file()
    years = json.loads(text)["years"]
    assert set(years) >= {"2024", "2025", "2026", "2027"}
    for year, entry in years.items():
        assert sum(1 for line in text.splitlines() if line.strip().startswith(f'"{year}":')) == 1
        assert [d for d in entry["closed"] if date.fromisoformat(d).weekday() >= 5] == []
    assert [year for year, entry in years.items() if entry["provisional"]] == ["2027"]


@pytest.mark.parametrize(
    "text",
    ['{"years": {"2026": {"closed": ["2026-02-14"]}}}', '{"years": {"2026": {"closed": ["2025-01-01"]}}}', "{}", "[]"],
)
def test_a_malformed_file_is_refused(text: str) -> None:
    with pytest.raises(CalendarDataError):
        parse_holidays(text)


def test_the_package_calendar_is_loaded_once() -> None:
    assert market_calendar() is market_calendar()
