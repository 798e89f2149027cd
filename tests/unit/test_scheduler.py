"""The local stack's scheduler reads template.yaml's schedules and fires them on their own clocks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from quantlink_local.scheduler import Schedule, Scheduler, find_schedule, scheduled_event, schedules
from quantlink_local.template import FunctionSpec, Template

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_schedules_come_from_the_template_in_china_time() -> None:
    found = {s.name: s for s in schedules(Template.load())}
    assert found["Sweep"].function == "SweepFunction"
    assert found["Sweep"].timezone == SHANGHAI
    assert found["Sweep"].input == {"schedule": "Sweep"}
    assert find_schedule(Template.load(), "sweep") == found["Sweep"]


def test_a_rate_fires_every_period_and_a_test_may_shorten_it() -> None:
    sweep = Schedule("Sweep", "SweepFunction", "rate(3 minutes)", SHANGHAI, {})
    at = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    assert sweep.next_fire(at) == at + timedelta(minutes=3)
    assert sweep.next_fire(at, period_override=1.5) == at + timedelta(seconds=1.5)


def test_a_weekday_cron_at_15_20_china_time_skips_the_weekend() -> None:
    drift = Schedule("Drift", "DriftFunction", "cron(20 15 ? * MON-FRI *)", SHANGHAI, {})
    friday_morning = datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)
    friday_fire = drift.next_fire(friday_morning)
    assert friday_fire == datetime(2026, 11, 20, 15, 20, tzinfo=SHANGHAI)
    assert friday_fire.astimezone(UTC).hour == 7
    assert drift.next_fire(friday_fire) == datetime(2026, 11, 23, 15, 20, tzinfo=SHANGHAI)  # Monday


def test_a_chosen_clock_travels_in_the_event() -> None:
    sweep = Schedule("Sweep", "SweepFunction", "rate(3 minutes)", SHANGHAI, {"schedule": "Sweep"})
    at = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
    assert scheduled_event(sweep, at) == {"schedule": "Sweep", "now": "2026-11-20T07:00:00+00:00"}
    assert scheduled_event(sweep) == {"schedule": "Sweep"}


def test_the_timer_invokes_the_function_with_the_schedules_input() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    fired = threading.Event()

    def invoke(spec: FunctionSpec, event: dict[str, Any]) -> None:
        calls.append((spec.logical_id, event))
        if len(calls) >= 2:
            fired.set()

    scheduler = Scheduler(Template.load(), invoke, period_override=0.05).start()
    try:
        assert fired.wait(5), "the sweep schedule never fired"
    finally:
        scheduler.stop()
    assert calls[0] == ("SweepFunction", {"schedule": "Sweep"})
