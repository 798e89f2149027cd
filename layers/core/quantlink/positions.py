"""Position snapshots for drift monitoring: the leader's (the JoinQuant strategy's daily report) and a
terminal's real holdings. Recorded as reported; the drift work reads them back."""

from __future__ import annotations

from datetime import datetime

from quantlink.dal.ports import PositionStore
from quantlink.models import JoinQuantPositionsBody, Strategy, Terminal, TerminalPositionsBody
from quantlink.views.relay import PositionsAccepted


def record_leader_positions(
    store: PositionStore, strategy: Strategy, snapshot: JoinQuantPositionsBody, *, at: datetime
) -> PositionsAccepted:
    store.put_leader_positions(strategy.strategy_id, snapshot.model_dump(mode="json", by_alias=True), at=at)
    return PositionsAccepted(positions=len(snapshot.positions))


def record_terminal_holdings(
    store: PositionStore, terminal: Terminal, holdings: TerminalPositionsBody, *, at: datetime
) -> PositionsAccepted:
    store.put_terminal_positions(terminal.terminal_id, holdings.model_dump(mode="json", by_alias=True), at=at)
    return PositionsAccepted(positions=len(holdings.positions))
