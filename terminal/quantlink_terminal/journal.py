"""The local execution journal: one SQLite row per signalId, the source of exactly-once execution.

A row is written (and committed) *before* the order goes to the broker, and updated with the outcome
right after. A signal that comes back (visibility timeout, crash before ack) finds its row and is acked
from it instead of being executed again.
"""

from __future__ import annotations

import sqlite3
from datetime import date

from quantlink_terminal.executions import (
    ACKED,
    DONE,
    PLACING,
    AlreadyJournaled,
    JournalEntry,
    bought_value,
)
from quantlink_terminal.models import Outcome

__all__ = ["ACKED", "DONE", "PLACING", "AlreadyJournaled", "Journal", "JournalEntry"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    signal_id       TEXT PRIMARY KEY,
    client_order_id TEXT NOT NULL,
    state           TEXT NOT NULL,
    security        TEXT,
    side            TEXT,
    volume          INTEGER,
    outcome         TEXT,
    ack_token       TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    acked_at        TEXT
);
CREATE INDEX IF NOT EXISTS executions_state ON executions (state);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Columns added after the first release; a journal from an older agent gains them on open.
_ADDED_COLUMNS = (
    ("strategy_id", "TEXT"),
    ("amount", "INTEGER"),
    ("price", "REAL"),
    ("origin", "TEXT"),
    ("close_all", "INTEGER"),
)
_COLUMNS = (
    "signal_id, client_order_id, state, outcome, ack_token, created_at, acked_at,"
    " strategy_id, security, side, amount, volume, price, updated_at, origin, close_all"
)


class Journal:
    """The QMT agent's journal (executions.ExecutionJournal): one SQLite row per signal."""

    def __init__(self, path: str) -> None:
        # Autocommit: every statement below is its own durable transaction, committed before we return,
        # so "written before the order is placed" holds even if the process dies the next instant.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        present = {str(row[1]) for row in self._db.execute("PRAGMA table_info(executions)")}
        for name, kind in _ADDED_COLUMNS:
            if name not in present:
                self._db.execute(f"ALTER TABLE executions ADD COLUMN {name} {kind}")

    def close(self) -> None:
        self._db.close()

    def get(self, signal_id: str) -> JournalEntry | None:
        query = f"SELECT {_COLUMNS} FROM executions WHERE signal_id = ?"  # noqa: S608 - constant columns
        row = self._db.execute(query, (signal_id,)).fetchone()
        return None if row is None else _entry(row)

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
        try:
            self._db.execute(
                "INSERT INTO executions (signal_id, client_order_id, state, security, side, volume,"
                " ack_token, created_at, updated_at, strategy_id, amount, price, origin, close_all)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    signal_id, client_order_id, PLACING, security, side, volume, ack_token, now, now,
                    strategy_id, amount, price, origin, int(close_all),
                ),
            )  # fmt: skip
        except sqlite3.IntegrityError as exc:
            raise AlreadyJournaled(f"signal {signal_id} is journaled already") from exc

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
        """Record the outcome; creates the row for outcomes reached without an order (expired, refused)."""
        self._db.execute(
            "INSERT OR IGNORE INTO executions (signal_id, client_order_id, state, ack_token, created_at,"
            " updated_at, strategy_id, security, side, amount, origin, close_all)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                signal_id, client_order_id, DONE, ack_token, now, now, strategy_id, security, side, amount,
                origin, int(close_all),
            ),
        )  # fmt: skip
        self._db.execute(
            "UPDATE executions SET state = ?, outcome = ?, ack_token = ?, updated_at = ?"
            " WHERE signal_id = ? AND state != ?",
            (DONE, outcome.to_json(), ack_token, now, signal_id, ACKED),
        )

    def remember_ack_token(self, signal_id: str, ack_token: str, now: str) -> None:
        """A redelivered signal carries a fresh ack token (the old one may no longer be accepted) and needs
        acking again, even if an earlier ack was confirmed: the server evidently did not keep it."""
        self._db.execute(
            "UPDATE executions SET ack_token = ?, state = ?, updated_at = ?"
            " WHERE signal_id = ? AND state IN (?, ?)",
            (ack_token, DONE, now, signal_id, DONE, ACKED),
        )

    def forget_ack_token(self, signal_id: str, now: str) -> None:
        """The server refused this token: stop retrying it and wait for the redelivery's fresh one."""
        self._db.execute(
            "UPDATE executions SET ack_token = NULL, updated_at = ? WHERE signal_id = ?", (now, signal_id)
        )

    def pending_acks(self, limit: int) -> list[JournalEntry]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM executions WHERE state = ? AND ack_token IS NOT NULL"  # noqa: S608 - constant columns
            " ORDER BY updated_at LIMIT ?",
            (DONE, limit),
        ).fetchall()
        return [_entry(row) for row in rows]

    def unacked_count(self) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM executions WHERE state = ?", (DONE,)).fetchone()
        return int(count)

    def recent(self, limit: int) -> list[JournalEntry]:
        """The newest `limit` signals, newest first."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM executions ORDER BY created_at DESC, rowid DESC LIMIT ?",  # noqa: S608
            (limit,),
        ).fetchall()
        return [_entry(row) for row in rows]

    def on_day(self, day: date) -> list[JournalEntry]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM executions WHERE created_at LIKE ? ORDER BY created_at, rowid",  # noqa: S608 - constant columns
            (day.isoformat() + "%",),
        ).fetchall()
        return [_entry(row) for row in rows]

    def bought_value_on(self, day: date, excluding: str | None = None) -> float:
        """CNY of buys placed that day (executions.bought_value)."""
        return bought_value(self.on_day(day), excluding=excluding)

    def mark_acked(self, signal_id: str, now: str) -> None:
        self._db.execute(
            "UPDATE executions SET state = ?, acked_at = ?, updated_at = ? WHERE signal_id = ?",
            (ACKED, now, now, signal_id),
        )

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _entry(row: tuple[object, ...]) -> JournalEntry:
    (signal_id, client_order_id, state, outcome, ack_token, created_at, acked_at,
     strategy_id, security, side, amount, volume, price, updated_at, origin, close_all) = row  # fmt: skip
    return JournalEntry(
        signal_id=str(signal_id),
        client_order_id=str(client_order_id),
        state=str(state),
        outcome=None if outcome is None else Outcome.from_json(str(outcome)),
        ack_token=_text(ack_token),
        created_at=str(created_at),
        acked_at=_text(acked_at),
        strategy_id=_text(strategy_id),
        security=_text(security),
        side=_text(side),
        amount=None if amount is None else int(str(amount)),
        volume=None if volume is None else int(str(volume)),
        price=None if price is None else float(str(price)),
        updated_at=_text(updated_at),
        origin=_text(origin),
        close_all=bool(close_all),
    )
