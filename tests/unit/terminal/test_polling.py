"""Cost-aware polling: long-polls around the sessions, cheap polls the rest of the time; what that saves."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from quantlink_terminal.calendar import parse_holidays
from quantlink_terminal.clock import CHINA_TZ
from quantlink_terminal.polling import PollingSettings, PollPlan, PollPolicy
from tests.unit.terminal.test_calendar import raw_file


def policy(**settings: float) -> PollPolicy:
    return PollPolicy(PollingSettings(**settings), parse_holidays(raw_file(), warn=lambda message: None))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("moment", "plan"),
    [
        ("2026-11-20T09:09:59", PollPlan(0, 60.0)),
        ("2026-11-20T09:10:00", PollPlan(20, 0.0)),
        ("2026-11-20T11:34:00", PollPlan(20, 0.0)),
        ("2026-11-20T12:00:00", PollPlan(0, 60.0)),  # lunch
        ("2026-11-20T14:59:00", PollPlan(20, 0.0)),
        ("2026-11-20T15:06:00", PollPlan(0, 60.0)),
        ("2026-11-21T10:00:00", PollPlan(0, 60.0)),  # Saturday
        ("2026-10-05T10:00:00", PollPlan(0, 60.0)),  # National Day
    ],
)
def test_the_plan_follows_the_market(moment: str, plan: PollPlan) -> None:
    assert policy().plan(datetime.fromisoformat(moment).replace(tzinfo=CHINA_TZ)) == plan


def test_an_idle_interval_of_zero_long_polls_around_the_clock() -> None:
    night = datetime(2026, 11, 21, 3, 0, tzinfo=CHINA_TZ)
    assert policy(idle_interval=0).plan(night) == PollPlan(20, 0.0)


def held_seconds(poll: PollPolicy, start: datetime, days: int) -> tuple[float, int]:
    """Seconds of long-poll held server-side (billed Lambda time) and the number of requests, for `days` days
    with no signals."""
    moment, end, held, requests = start, start + timedelta(days=days), 0.0, 0
    while moment < end:
        plan = poll.plan(moment)
        requests += 1
        held += plan.wait
        moment += timedelta(seconds=plan.wait or plan.idle_sleep)
    return held, requests


def test_what_cost_aware_polling_saves() -> None:
    # The figures terminal/README.md quotes: held server seconds against long-polling around the clock.
    always = policy(idle_interval=0)
    cheap = policy()
    friday = datetime(2026, 11, 20, tzinfo=CHINA_TZ)
    day_before, _ = held_seconds(always, friday, 1)
    day_after, _ = held_seconds(cheap, friday, 1)
    assert day_before == 86_400 and day_after == pytest.approx(16_500, abs=40)  # 4 h 35 min of long-poll

    november = datetime(2026, 11, 1, tzinfo=CHINA_TZ)  # 21 trading days, 9 days closed
    month_before, requests_before = held_seconds(always, november, 30)
    month_after, requests_after = held_seconds(cheap, november, 30)
    assert month_after / month_before < 0.14  # more than 7x less server time
    assert requests_after < requests_before  # and fewer requests too
