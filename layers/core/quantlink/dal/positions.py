"""Position snapshots for drift: the leader's (what the JoinQuant strategy holds, under the strategy)
and each terminal's real holdings (under the terminal), one item per report time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from quantlink.dal import keys
from quantlink.dal.codec import to_python, value, values
from quantlink.dal.table import TableStore


class DynamoPositionStore(TableStore):
    def put_leader_positions(self, strategy_id: str, snapshot: dict[str, Any], *, at: datetime) -> None:
        self._put(keys.strategy_pk(strategy_id), snapshot, at)

    def put_terminal_positions(self, terminal_id: str, snapshot: dict[str, Any], *, at: datetime) -> None:
        self._put(keys.terminal_pk(terminal_id), snapshot, at)

    def _put(self, pk: str, snapshot: dict[str, Any], at: datetime) -> None:
        item = {name: value(v) for name, v in snapshot.items() if v is not None}
        self.table.put({**item, "pk": value(pk), "sk": value(keys.positions_sk(at))})

    def latest_leader_positions(self, strategy_id: str, *, since: datetime, until: datetime) -> dict[str, Any] | None:
        """The last snapshot the strategy sent in [since, until), or None."""
        return self._latest(keys.strategy_pk(strategy_id), since, until)

    def latest_terminal_positions(self, terminal_id: str, *, since: datetime, until: datetime) -> dict[str, Any] | None:
        """The last holdings report the terminal sent for a time in [since, until), or None."""
        return self._latest(keys.terminal_pk(terminal_id), since, until)

    def _latest(self, pk: str, since: datetime, until: datetime) -> dict[str, Any] | None:
        low, high = keys.positions_range(since, until)
        items = self.table.query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=values(pk=pk, lo=low, hi=high),
            ScanIndexForward=False,
            Limit=2,
            ConsistentRead=True,
        )
        for item in items:
            row = to_python(item)
            if row["sk"] == high:  # BETWEEN includes the upper bound; the range is half-open
                continue
            return {k: v for k, v in row.items() if k not in ("pk", "sk")}
        return None
