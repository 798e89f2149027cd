"""The SQLite journal: written before the order, durable across reopen, drives acks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from quantlink_terminal.journal import ACKED, DONE, PLACING, Journal
from quantlink_terminal.models import EXECUTED, Outcome

NOW = "2026-11-20T10:00:00.000+08:00"


def test_placing_row_survives_a_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "journal.sqlite3")
    journal = Journal(path)
    journal.record_placing("sig-1", "QLabc", "600000.SH", "buy", 100, "tok-1", NOW)
    journal.close()  # as if the process died right after the insert

    entry = Journal(path).get("sig-1")
    assert entry is not None
    assert (entry.state, entry.client_order_id, entry.outcome) == (PLACING, "QLabc", None)


def test_a_signal_cannot_be_journaled_for_placing_twice(tmp_path: Path) -> None:
    journal = Journal(str(tmp_path / "j.sqlite3"))
    journal.record_placing("sig-1", "QLabc", "600000.SH", "buy", 100, "tok-1", NOW)
    with pytest.raises(sqlite3.IntegrityError):
        journal.record_placing("sig-1", "QLabc", "600000.SH", "buy", 100, "tok-2", NOW)


def test_outcome_then_ack_lifecycle(tmp_path: Path) -> None:
    journal = Journal(str(tmp_path / "j.sqlite3"))
    outcome = Outcome(status=EXECUTED, broker_order_id="42", filled=100, avg_price=10.5, executed_at=NOW)
    journal.record_placing("sig-1", "QLabc", "600000.SH", "buy", 100, "tok-1", NOW)
    journal.record_outcome("sig-1", "QLabc", outcome, "tok-1", NOW)

    pending = journal.pending_acks(10)
    assert [(e.signal_id, e.state, e.ack_token, e.outcome) for e in pending] == [("sig-1", DONE, "tok-1", outcome)]

    journal.mark_acked("sig-1", NOW)
    assert journal.pending_acks(10) == []
    entry = journal.get("sig-1")
    assert entry is not None and entry.state == ACKED and entry.outcome == outcome


def test_redelivery_reopens_an_acked_row_with_the_fresh_token(tmp_path: Path) -> None:
    journal = Journal(str(tmp_path / "j.sqlite3"))
    journal.record_outcome("sig-1", "QLabc", Outcome(status=EXECUTED), "tok-1", NOW)
    journal.mark_acked("sig-1", NOW)
    journal.remember_ack_token("sig-1", "tok-2", NOW)
    assert [(e.signal_id, e.ack_token) for e in journal.pending_acks(10)] == [("sig-1", "tok-2")]


def test_a_refused_token_is_not_retried(tmp_path: Path) -> None:
    journal = Journal(str(tmp_path / "j.sqlite3"))
    journal.record_outcome("sig-1", "QLabc", Outcome(status=EXECUTED), "tok-1", NOW)
    journal.forget_ack_token("sig-1", NOW)
    assert journal.pending_acks(10) == []


def test_meta_values_persist(tmp_path: Path) -> None:
    path = str(tmp_path / "j.sqlite3")
    Journal(path).set_meta("positions_reported_on", "2026-11-20")
    assert Journal(path).get_meta("positions_reported_on") == "2026-11-20"
