"""Position snapshots for drift: the leader's (what the JoinQuant strategy holds, under the strategy)
and each terminal's real holdings (under the terminal), one item per report time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from quantlink.dal import keys
from quantlink.dal.codec import value
from quantlink.dal.table import TableStore


class DynamoPositionStore(TableStore):
    def put_leader_positions(self, strategy_id: str, snapshot: dict[str, Any], *, at: datetime) -> None:
        self._put(keys.strategy_pk(strategy_id), snapshot, at)

    def put_terminal_positions(self, terminal_id: str, snapshot: dict[str, Any], *, at: datetime) -> None:
        self._put(keys.terminal_pk(terminal_id), snapshot, at)

    def _put(self, pk: str, snapshot: dict[str, Any], at: datetime) -> None:
        item = {name: value(v) for name, v in snapshot.items() if v is not None}
        self.table.put({**item, "pk": value(pk), "sk": value(keys.positions_sk(at))})
