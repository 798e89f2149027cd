"""What the execution journal records about one signal, and the interface every journal implements.

The journal is the source of exactly-once execution: a signal is journaled *before* its order goes to the
broker and its outcome right after, so a signal that comes back (visibility timeout, restart) is answered
from the journal instead of being executed again. The QMT agent keeps it in SQLite (journal.Journal), the
PTrade script in an append-only file in PTrade's research folder (ptrade.filejournal.FileJournal).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from quantlink_terminal.models import BUY, EXECUTED, Outcome

PLACING = "placing"  # the order may be at the broker; the outcome is not recorded yet
DONE = "done"  # the outcome is recorded; the ack may not have reached the server
ACKED = "acked"  # the server confirmed the ack


class AlreadyJournaled(ValueError):
    """The signal is journaled for placing already: it must never be placed twice."""


@dataclass(frozen=True)
class JournalEntry:
    signal_id: str
    client_order_id: str
    state: str
    outcome: Outcome | None
    ack_token: str | None
    created_at: str
    acked_at: str | None
    strategy_id: str | None = None
    security: str | None = None
    side: str | None = None
    amount: int | None = None  # the leader's share count
    volume: int | None = None  # this terminal's order, once sized
    price: float | None = None  # the price the order was sized and checked at
    updated_at: str | None = None
    origin: str | None = None  # API.md `origin`: "source", "sync" (None: journaled by an older agent)
    close_all: bool = False  # API.md `closeAll`: sell every sellable share

    @property
    def day(self) -> str:
        return self.created_at[:10]  # journal times are China time, so the prefix is the trading day


def bought_value(entries: list[JournalEntry], excluding: str | None = None) -> float:
    """CNY of buys among `entries`: orders in flight or executed (a refused or failed one bought nothing), at
    the price they were checked at. `excluding` leaves out the signal being (re)checked."""
    total = 0.0
    for entry in entries:
        if entry.side != BUY or not entry.volume or entry.price is None or entry.signal_id == excluding:
            continue
        if entry.outcome is None or entry.outcome.status == EXECUTED:
            total += entry.volume * entry.price
    return total


class ExecutionJournal(Protocol):
    """Every statement is durable when it returns: "written before the order is placed" must hold even if the
    process dies the next instant."""

    def get(self, signal_id: str) -> JournalEntry | None: ...

    def record_placing(
        self,
        signal_id: str,
        client_order_id: str,
        security: str,
        side: str,
        volume: int,
        ack_token: str,
        now: str,
        strategy_id: str | None = None,
        amount: int | None = None,
        price: float | None = None,
        origin: str | None = None,
        close_all: bool = False,
    ) -> None:
        """Raises AlreadyJournaled if the signal is journaled already: never place twice."""
        ...

    def record_outcome(
        self,
        signal_id: str,
        client_order_id: str,
        outcome: Outcome,
        ack_token: str,
        now: str,
        strategy_id: str | None = None,
        security: str | None = None,
        side: str | None = None,
        amount: int | None = None,
        origin: str | None = None,
        close_all: bool = False,
    ) -> None:
        """Record the outcome; creates the entry for outcomes reached without an order (expired, refused)."""
        ...

    def remember_ack_token(self, signal_id: str, ack_token: str, now: str) -> None:
        """A redelivered signal carries a fresh ack token and needs acking again, even if an earlier ack was
        confirmed: the server evidently did not keep it."""
        ...

    def forget_ack_token(self, signal_id: str, now: str) -> None:
        """The server refused this token: stop retrying it and wait for the redelivery's fresh one."""
        ...

    def pending_acks(self, limit: int) -> list[JournalEntry]: ...

    def mark_acked(self, signal_id: str, now: str) -> None: ...

    def bought_value_on(self, day: date, excluding: str | None = None) -> float: ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...
