"""Position snapshots for drift monitoring: the leader's (the JoinQuant strategy's daily report) and a
terminal's real holdings. Validated (every security a real A-share code; the leader's by its source's
parser), then recorded under the time they describe: the leader's `dt` when it carries an offset (else
when it arrived), the terminal's `asOf`; the drift job reads the last of each China trading day."""

from __future__ import annotations

from datetime import datetime

from quantlink.dal.ports import PositionStore
from quantlink.errors import ValidationFailed
from quantlink.models import JoinQuantPositionsBody, Strategy, Terminal, TerminalPositionsBody
from quantlink.securities import normalize_security
from quantlink.views.relay import PositionsAccepted


def record_leader_positions(
    store: PositionStore, strategy: Strategy, snapshot: JoinQuantPositionsBody, *, at: datetime
) -> PositionsAccepted:
    store.put_leader_positions(
        strategy.strategy_id, snapshot.model_dump(mode="json", by_alias=True), at=_when(snapshot.dt, at)
    )
    return PositionsAccepted(positions=len(snapshot.positions))


def record_terminal_holdings(
    store: PositionStore, terminal: Terminal, holdings: TerminalPositionsBody, *, at: datetime
) -> PositionsAccepted:
    bad = [i for i, p in enumerate(holdings.positions) if normalize_security(p.security) is None]
    if bad:
        raise ValidationFailed(
            "Unknown security code: expected six digits and .SH, .SZ or .BJ (or .XSHG, .XSHE, .XBSE).",
            details=[{"field": f"positions.{i}.security", "message": "malformed code"} for i in bad[:20]],
        )
    store.put_terminal_positions(
        terminal.terminal_id, holdings.model_dump(mode="json", by_alias=True), at=holdings.as_of
    )
    return PositionsAccepted(positions=len(holdings.positions))


def _when(dt: str | None, received_at: datetime) -> datetime:
    """The leader's own time when it is an ISO time with an offset; when it arrived otherwise."""
    try:
        moment = datetime.fromisoformat(dt or "")
    except ValueError:
        return received_at
    return moment if moment.tzinfo is not None else received_at
