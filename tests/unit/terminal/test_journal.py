"""The execution journal, both of them (the QMT agent's SQLite one, the PTrade script's append-only file):
written before the order, durable across reopen, drives acks. One contract, the same tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from quantlink_terminal.journal import ACKED, DONE, PLACING, AlreadyJournaled, Journal
from quantlink_terminal.models import EXECUTED, Outcome
from quantlink_terminal.ptrade.filejournal import FileJournal

NOW = "2026-11-20T10:00:00.000+08:00"

Opener = Callable[[], Any]


@pytest.fixture(params=[Journal, FileJournal], ids=["sqlite", "file"])
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Open the journal (again) on the same path, as a restarted process does."""
    kind = request.param
    path = str(tmp_path / ("journal.sqlite3" if kind is Journal else "journal.jsonl"))
    return lambda: kind(path)


def test_placing_row_survives_a_reopen(reopen: Opener) -> None:
    journal = reopen()
    journal.record_placing("sig-1", "QLabc", "600000.SH", "buy", 100, "tok-1", NOW)
    journal.close()  # as if the process died right after the insert

    entry = reopen().get("sig-1")
    assert entry is not None
    assert (entry.state, entry.client_order_id, entry.outcome) == (PLACING, "QLabc", None)


def test_a_signal_cannot_be_journaled_for_placing_twice(reopen: Opener) -> None:
    journal = reopen()
    journal.record_placing("sig-1", "QLabc", "600000.SH", "buy", 100, "tok-1", NOW)
    with pytest.raises(AlreadyJournaled):
        journal.record_placing("sig-1", "QLabc", "600000.SH", "buy", 100, "tok-2", NOW)


def test_outcome_then_ack_lifecycle(reopen: Opener) -> None:
    journal = reopen()
    outcome = Outcome(status=EXECUTED, broker_order_id="42", filled=100, avg_price=10.5, executed_at=NOW)
    journal.record_placing("sig-1", "QLabc", "600000.SH", "buy", 100, "tok-1", NOW)
    journal.record_outcome("sig-1", "QLabc", outcome, "tok-1", NOW)

    pending = journal.pending_acks(10)
    assert [(e.signal_id, e.state, e.ack_token, e.outcome) for e in pending] == [("sig-1", DONE, "tok-1", outcome)]

    journal.mark_acked("sig-1", NOW)
    assert journal.pending_acks(10) == []
    entry = reopen().get("sig-1")
    assert entry is not None and entry.state == ACKED and entry.outcome == outcome


def test_redelivery_reopens_an_acked_row_with_the_fresh_token(reopen: Opener) -> None:
    journal = reopen()
    journal.record_outcome("sig-1", "QLabc", Outcome(status=EXECUTED), "tok-1", NOW)
    journal.mark_acked("sig-1", NOW)
    journal.remember_ack_token("sig-1", "tok-2", NOW)
    assert [(e.signal_id, e.ack_token) for e in journal.pending_acks(10)] == [("sig-1", "tok-2")]


def test_a_refused_token_is_not_retried(reopen: Opener) -> None:
    journal = reopen()
    journal.record_outcome("sig-1", "QLabc", Outcome(status=EXECUTED), "tok-1", NOW)
    journal.forget_ack_token("sig-1", NOW)
    assert journal.pending_acks(10) == []


def test_meta_values_persist(reopen: Opener) -> None:
    reopen().set_meta("positions_reported_on", "2026-11-20")
    assert reopen().get_meta("positions_reported_on") == "2026-11-20"


def test_a_journal_from_an_older_agent_gains_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # the first release's schema, with one executed signal in it
        db.executescript(
            "CREATE TABLE executions (signal_id TEXT PRIMARY KEY, client_order_id TEXT NOT NULL, state TEXT NOT NULL,"
            " security TEXT, side TEXT, volume INTEGER, outcome TEXT, ack_token TEXT, created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL, acked_at TEXT);"
        )
        db.execute(
            "INSERT INTO executions VALUES ('old', 'QLold', 'acked', '600000.SH', 'buy', 100, ?, NULL,"
            " '2026-11-19T10:00:00.000+08:00', '2026-11-19T10:00:01.000+08:00', '2026-11-19T10:00:02.000+08:00')",
            (Outcome(status="executed", filled=100, avg_price=10.0).to_json(),),
        )
    db.close()
    journal = Journal(str(path))
    entry = journal.get("old")
    assert entry is not None and entry.outcome is not None and entry.outcome.filled == 100
    assert (entry.strategy_id, entry.amount, entry.price) == (None, None, None)
    assert (entry.origin, entry.close_all) == (None, False)
    journal.record_placing("new", "QLnew", "600000.SH", "buy", 200, "tok", NOW, strategy_id="st_1", price=10.5)
    assert journal.bought_value_on(date(2026, 11, 20)) == pytest.approx(2100.0)
    journal.close()


def test_todays_buys_count_what_was_placed_or_executed_only(reopen: Opener) -> None:
    journal = reopen()
    journal.record_placing("a", "QLa", "600000.SH", "buy", 100, "t", NOW, price=10.0)  # in flight: counts
    journal.record_placing("b", "QLb", "600000.SH", "buy", 100, "t", NOW, price=10.0)
    journal.record_outcome("b", "QLb", Outcome(status="failed", filled=0), "t", NOW)  # bought nothing
    journal.record_placing("c", "QLc", "600000.SH", "buy", 300, "t", NOW, price=10.0)
    journal.record_outcome("c", "QLc", Outcome(status="executed", filled=300), "t", NOW)
    journal.record_placing("d", "QLd", "600000.SH", "sell", 100, "t", NOW, price=10.0)  # a sell
    journal.record_outcome("e", "QLe", Outcome(status="rejected", error="x"), "t", NOW, security="000001.SZ")
    assert journal.bought_value_on(date(2026, 11, 20)) == 4000.0
    assert journal.bought_value_on(date(2026, 11, 19)) == 0.0
    assert [e.signal_id for e in journal.recent(3)] == ["e", "d", "c"]
    assert journal.get("e") is not None and journal.get("e").security == "000001.SZ"  # type: ignore[union-attr]
    journal.close()


def test_a_signal_rechecked_after_a_restart_does_not_count_against_itself(reopen: Opener) -> None:
    journal = reopen()
    journal.record_placing("a", "QLa", "600000.SH", "buy", 100, "t", NOW, price=10.0)
    journal.record_placing("b", "QLb", "600000.SH", "buy", 200, "t", NOW, price=10.0)
    assert journal.bought_value_on(date(2026, 11, 20), excluding="b") == 1000.0
    journal.close()


def test_origin_and_close_all_are_journaled(reopen: Opener) -> None:
    journal = reopen()
    journal.record_placing("a", "QLa", "600000.SH", "sell", 700, "t", NOW, origin="sync", close_all=True)
    journal.record_outcome("b", "QLb", Outcome(status="rejected", error="x"), "t", NOW, origin="sync")
    journal.close()
    reopened = reopen()
    assert [(e.signal_id, e.origin, e.close_all) for e in reopened.recent(2)] == [
        ("b", "sync", False),
        ("a", "sync", True),
    ]
    reopened.close()


def test_the_file_journal_ignores_a_line_cut_by_a_kill_and_carries_on(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = FileJournal(str(path))
    journal.record_placing("sig-1", "QL1", "600000.SH", "buy", 100, "t1", NOW)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"t": "e", "seq": 1, "entry": {"signal_id": "sig-2", "sta')  # killed mid-write

    reopened = FileJournal(str(path))
    assert reopened.get("sig-2") is None and reopened.get("sig-1") is not None
    reopened.record_outcome("sig-1", "QL1", Outcome(status=EXECUTED, filled=100), "t1", NOW)
    again = FileJournal(str(path))  # the record after the cut line is read back
    entry = again.get("sig-1")
    assert entry is not None and entry.state == DONE and entry.outcome is not None and entry.outcome.filled == 100


def test_the_file_journal_is_compacted_when_it_has_grown_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("quantlink_terminal.ptrade.filejournal.COMPACT_AFTER_LINES", 10)
    path = tmp_path / "journal.jsonl"
    journal = FileJournal(str(path))
    journal.record_placing("sig-1", "QL1", "600000.SH", "buy", 100, "t1", NOW)
    for n in range(12):
        journal.set_meta("k", str(n))
    journal.record_outcome("sig-1", "QL1", Outcome(status=EXECUTED), "t1", NOW)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 14

    compacted = FileJournal(str(path))
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2
    entry = compacted.get("sig-1")
    assert entry is not None and entry.state == DONE and compacted.get_meta("k") == "11"
