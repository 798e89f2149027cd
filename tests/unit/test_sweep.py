"""The sweep is a list of independent steps: one failing is reported, the others still run."""

from __future__ import annotations

from datetime import UTC, datetime

from quantlink.sweep import STEPS, SweepContext, run_sweep
from tests.unit.fakes import FakeQueues, FakeStore
from tests.unit.sharing_fakes import FakeMailer

AT = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


def context() -> SweepContext:
    store = FakeStore()
    return SweepContext(
        store=store, queues=FakeQueues(store=store), mailer=FakeMailer(), stuck_after_seconds=60, lease_seconds=15,
        batch=10,
    )  # fmt: skip


def test_a_failing_step_is_reported_and_the_next_one_still_runs() -> None:
    ran: list[str] = []

    def broken(ctx: SweepContext, at: datetime) -> int:
        raise RuntimeError("boom")

    def counting(ctx: SweepContext, at: datetime) -> int:
        ran.append(at.isoformat())
        return 3

    result = run_sweep(context(), AT, [("broken", broken), ("counting", counting)])

    assert result.handled == {"counting": 3}
    assert result.failed == {"broken": "RuntimeError('boom')"}
    assert ran == [AT.isoformat()]


def test_the_default_steps_run_on_an_empty_table_and_handle_nothing() -> None:
    result = run_sweep(context(), AT)
    assert result.handled == {name: 0 for name, _ in STEPS} and result.failed == {}
