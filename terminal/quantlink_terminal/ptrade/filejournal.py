"""The PTrade script's execution journal: an append-only file in PTrade's research folder.

PTrade keeps a strategy's `g` across restarts only by pickling it after `before_trading_start`,
`handle_data` and `after_trading_end`, never after a `run_interval` callback (where the orders are placed),
and it restores it *after* `initialize` runs; a signal executed between two pickles would be forgotten. Files
under `get_research_path()` do survive restarts, so the journal is a file there, written before every order
and after every outcome (executions.ExecutionJournal's contract).

One JSON object per line: the whole entry after each change ("e"), or one meta value ("m"); the last line of
an entry wins. A process killed mid-write leaves at most a cut last line, which is ignored (it was the write
in progress, so the order it announced was not placed yet) and closed with a newline before anything else is
appended. The file is rewritten compactly (one line per entry) on open once it has grown long.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, replace
from datetime import date
from typing import Any

from quantlink_terminal.executions import (
    ACKED,
    DONE,
    PLACING,
    AlreadyJournaled,
    JournalEntry,
    bought_value,
)
from quantlink_terminal.models import Outcome

COMPACT_AFTER_LINES = 5000


def _entry_record(entry: JournalEntry, seq: int) -> dict[str, Any]:
    return {"t": "e", "seq": seq, "entry": asdict(entry)}


def _entry(fields: dict[str, Any]) -> JournalEntry:
    outcome = fields.get("outcome")
    values = dict(fields)
    values["outcome"] = None if outcome is None else Outcome(**outcome)
    return JournalEntry(**values)


class FileJournal:
    """executions.ExecutionJournal over one append-only file. Not thread-safe: the PTrade runtime calls it
    from one poll at a time."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._entries: dict[str, JournalEntry] = {}
        self._seq: dict[str, int] = {}  # signal id -> when it was first journaled (orders "recent")
        self._meta: dict[str, str] = {}
        self._next_seq = 0
        lines, cut = self._load()
        if cut:
            self._append_raw("\n")  # close the cut line so the next record starts on its own
        if lines > COMPACT_AFTER_LINES and lines > 2 * (len(self._entries) + len(self._meta)):
            self._compact()

    # -- the file -----------------------------------------------------------------------------------

    def _load(self) -> tuple[int, bool]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            return 0, False
        lines = text.split("\n")
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                self._apply(record)
            except (ValueError, KeyError, TypeError):
                continue  # a line cut by a kill mid-write
        return len(lines), bool(text) and not text.endswith("\n")

    def _apply(self, record: dict[str, Any]) -> None:
        if record["t"] == "e":
            entry = _entry(record["entry"])
            seq = int(record["seq"])
            self._entries[entry.signal_id] = entry
            self._seq.setdefault(entry.signal_id, seq)
            self._next_seq = max(self._next_seq, seq + 1)
        elif record["t"] == "m":
            self._meta[str(record["k"])] = str(record["v"])

    def _append_raw(self, text: str) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            # A PTrade that blocks `os`: flushed to the OS, which survives a killed process.
            with contextlib.suppress(OSError, AttributeError, ImportError):
                os.fsync(handle.fileno())

    def _write(self, record: dict[str, Any]) -> None:
        self._append_raw(json.dumps(record, sort_keys=True, ensure_ascii=True) + "\n")

    def _put(self, entry: JournalEntry) -> None:
        seq = self._seq.get(entry.signal_id)
        if seq is None:
            seq = self._next_seq
            self._next_seq += 1
            self._seq[entry.signal_id] = seq
        self._write(_entry_record(entry, seq))  # durable first, then visible
        self._entries[entry.signal_id] = entry

    def _compact(self) -> None:
        temporary = self.path + ".tmp"
        ordered = sorted(self._entries.values(), key=lambda e: self._seq[e.signal_id])
        records = [_entry_record(entry, self._seq[entry.signal_id]) for entry in ordered]
        records += [{"t": "m", "k": key, "v": value} for key, value in sorted(self._meta.items())]
        try:
            with open(temporary, "w", encoding="utf-8") as handle:
                for record in records:
                    handle.write(json.dumps(record, sort_keys=True, ensure_ascii=True) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except (OSError, AttributeError, ImportError):
            pass  # the long file stays correct; compacting is only tidiness

    # -- ExecutionJournal ---------------------------------------------------------------------------

    def close(self) -> None:
        """Nothing is held open between writes."""

    def get(self, signal_id: str) -> JournalEntry | None:
        return self._entries.get(signal_id)

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
        if signal_id in self._entries:
            raise AlreadyJournaled(f"signal {signal_id} is journaled already")
        self._put(
            JournalEntry(
                signal_id=signal_id, client_order_id=client_order_id, state=PLACING, outcome=None,
                ack_token=ack_token, created_at=now, acked_at=None, strategy_id=strategy_id,
                security=security, side=side, amount=amount, volume=volume, price=price, updated_at=now,
                origin=origin, close_all=close_all,
            )
        )  # fmt: skip

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
        entry = self._entries.get(signal_id)
        if entry is None:
            entry = JournalEntry(
                signal_id=signal_id, client_order_id=client_order_id, state=DONE, outcome=None,
                ack_token=ack_token, created_at=now, acked_at=None, strategy_id=strategy_id,
                security=security, side=side, amount=amount, updated_at=now, origin=origin,
                close_all=close_all,
            )  # fmt: skip
        elif entry.state == ACKED:
            return  # the server has it; nothing to change
        self._put(replace(entry, state=DONE, outcome=outcome, ack_token=ack_token, updated_at=now))

    def remember_ack_token(self, signal_id: str, ack_token: str, now: str) -> None:
        entry = self._entries.get(signal_id)
        if entry is not None and entry.state in (DONE, ACKED):
            self._put(replace(entry, ack_token=ack_token, state=DONE, updated_at=now))

    def forget_ack_token(self, signal_id: str, now: str) -> None:
        entry = self._entries.get(signal_id)
        if entry is not None:
            self._put(replace(entry, ack_token=None, updated_at=now))

    def pending_acks(self, limit: int) -> list[JournalEntry]:
        pending = [e for e in self._entries.values() if e.state == DONE and e.ack_token is not None]
        pending.sort(key=lambda e: (e.updated_at or "", self._seq[e.signal_id]))
        return pending[:limit]

    def unacked_count(self) -> int:
        return sum(1 for e in self._entries.values() if e.state == DONE)

    def recent(self, limit: int) -> list[JournalEntry]:
        """The newest `limit` signals, newest first."""
        ordered = sorted(self._entries.values(), key=lambda e: (e.created_at, self._seq[e.signal_id]))
        return list(reversed(ordered))[:limit]

    def on_day(self, day: date) -> list[JournalEntry]:
        prefix = day.isoformat()
        entries = [e for e in self._entries.values() if e.created_at.startswith(prefix)]
        return sorted(entries, key=lambda e: (e.created_at, self._seq[e.signal_id]))

    def bought_value_on(self, day: date, excluding: str | None = None) -> float:
        return bought_value(self.on_day(day), excluding=excluding)

    def mark_acked(self, signal_id: str, now: str) -> None:
        entry = self._entries.get(signal_id)
        if entry is not None:
            self._put(replace(entry, state=ACKED, acked_at=now, updated_at=now))

    def get_meta(self, key: str) -> str | None:
        return self._meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self._write({"t": "m", "k": key, "v": value})
        self._meta[key] = value
