"""The server's trading calendar: XSHG where the package knows the days, the shared holiday file after."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from quantlink.calendar import CalendarExhausted, TradingCalendar, parse_holiday_file, trading_calendar

REPO = Path(__file__).resolve().parents[2]
SERVER_FILE = REPO / "layers/core/quantlink/data/market_holidays.json"
AGENT_FILE = REPO / "terminal/quantlink_terminal/data/market_holidays.json"


def test_the_server_ships_the_agents_holiday_file_unchanged() -> None:
    # One truth for the weekday closures: the agent's file, copied (see quantlink/calendar.py).
    assert SERVER_FILE.read_bytes() == AGENT_FILE.read_bytes(), (
        "cp terminal/quantlink_terminal/data/market_holidays.json layers/core/quantlink/data/"
    )


def test_xshg_and_the_holiday_file_agree_on_every_year_both_know() -> None:
    calendar = trading_calendar()
    assert calendar.package_last is not None, "exchange_calendars is a pinned dependency"
    closed, provisional = parse_holiday_file(SERVER_FILE.read_text(encoding="utf-8"))
    both = [y for y in closed if y not in provisional and date(y, 12, 31) <= calendar.package_last]
    assert both, "the file and XSHG share no year: the comparison would prove nothing"
    for year in both:
        day = date(year, 1, 1)
        while day.year == year:
            if day.weekday() < 5:
                assert (day in calendar.package_sessions) == (day not in closed[year]), day
            day += timedelta(days=1)


def test_the_calendar_does_not_run_out_within_60_days() -> None:
    # Fails 60 days before the data ends, so nobody is surprised on 1 January: add the next year's
    # line to the holiday file (quantlink/calendar.py says how).
    today = datetime.now(UTC).date()
    last = trading_calendar().last_known_day
    assert today + timedelta(days=60) <= last, f"the trading calendar ends {last}: update it"


@pytest.mark.parametrize(
    ("day", "trading"),
    [
        (date(2026, 11, 20), True),  # a Friday
        (date(2026, 11, 21), False),  # Saturday
        (date(2026, 11, 22), False),  # Sunday
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 2, 17), False),  # Spring Festival
        (date(2026, 2, 14), False),  # a Saturday make-up workday for offices: the exchanges stay shut
        (date(2025, 12, 31), True),
    ],
)
def test_known_days(day: date, trading: bool) -> None:
    assert trading_calendar().is_trading_day(day) is trading


def test_years_past_the_package_come_from_the_file_and_are_flagged_provisional() -> None:
    calendar = trading_calendar()
    assert calendar.is_trading_day(date(2027, 2, 10)) is False  # 2027 Spring Festival (file, provisional)
    assert calendar.is_trading_day(date(2027, 3, 10)) is True
    assert calendar.is_provisional(date(2027, 3, 10))
    assert not calendar.is_provisional(date(2026, 3, 10))


def test_a_day_past_all_data_raises_instead_of_guessing() -> None:
    calendar = TradingCalendar(frozenset(), None, None, {2026: frozenset()}, frozenset())
    assert calendar.is_trading_day(date(2026, 6, 1)) is True
    assert calendar.is_trading_day(date(2031, 6, 7)) is False  # a Saturday needs no data
    with pytest.raises(CalendarExhausted, match="2031"):
        calendar.is_trading_day(date(2031, 6, 2))


def test_previous_and_next_trading_days_skip_weekends_and_holidays() -> None:
    calendar = trading_calendar()
    assert calendar.previous_trading_day(date(2026, 10, 8)) == date(2026, 9, 30)  # National Day week (1-7 Oct)
    assert calendar.next_trading_day(date(2026, 9, 30)) == date(2026, 10, 8)
    assert calendar.previous_trading_day(date(2026, 11, 23)) == date(2026, 11, 20)  # Monday -> Friday


def test_latest_closed_session_turns_at_15_00_china_time() -> None:
    calendar = trading_calendar()
    friday_before_close = datetime(2026, 11, 20, 6, 59, tzinfo=UTC)  # 14:59 China time
    friday_after_close = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)  # 15:00
    sunday = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    assert calendar.latest_closed_session(friday_before_close) == date(2026, 11, 19)
    assert calendar.latest_closed_session(friday_after_close) == date(2026, 11, 20)
    assert calendar.latest_closed_session(sunday) == date(2026, 11, 20)


def test_malformed_file_lines_are_refused() -> None:
    bad = json.dumps({"years": {"2026": {"closed": ["2026-11-21"]}}})  # a Saturday
    with pytest.raises(ValueError, match="weekend"):
        parse_holiday_file(bad)
