"""Terminals: one record each (listed per owner through gsi1; layout: dal/keys.py) with its device
binding; deleting a terminal removes its partition and the strategy side of its subscriptions."""

from __future__ import annotations

from datetime import datetime

from quantlink.dal import keys
from quantlink.dal.codec import from_item, to_item
from quantlink.dal.table import ConditionFailed, TableStore
from quantlink.errors import Conflict, DeviceTakenOver, NotFound
from quantlink.models import Terminal
from quantlink.timeutil import iso

_CONNECTION_TTL_SECONDS = 3 * 3600


class DynamoTerminalStore(TableStore):
    def put_terminal(self, terminal: Terminal) -> None:
        item = to_item(
            terminal,
            pk=keys.terminal_pk(terminal.terminal_id),
            sk=keys.META,
            gsi1pk=keys.owner_gsi1pk(terminal.owner_id),
            gsi1sk=keys.owned_gsi1sk(keys.Owned.TERMINAL, terminal.created_at, terminal.terminal_id),
        )
        try:
            self.table.put(item, condition="attribute_not_exists(pk)")
        except ConditionFailed as failed:
            raise Conflict("A terminal with this id already exists.") from failed

    def get_terminal(self, terminal_id: str) -> Terminal | None:
        item = self.table.get(keys.terminal_pk(terminal_id), keys.META)
        return from_item(Terminal, item) if item else None

    def list_terminals(self, owner_id: str) -> list[Terminal]:
        """Newest first."""
        items = self.table.query_gsi1(keys.owner_gsi1pk(owner_id), keys.Owned.TERMINAL.value)
        return [from_item(Terminal, item) for item in items]

    def set_terminal_token_hash(self, terminal_id: str, owner_id: str, token_hash: str) -> None:
        """Replace the token's hash, only on the owner's own record: the old token stops working at once."""
        self._owner_update(terminal_id, owner_id, "SET authTokenHash = :hash", hash=token_hash)

    def claim_device(self, terminal_id: str, fingerprint_hash: str, *, at: datetime) -> None:
        """Claim the terminal for this device if unclaimed, check it otherwise, and record lastSeenAt,
        in one conditional write: of two devices racing for a fresh terminal exactly one wins, whatever
        either of them read before. Raises DeviceTakenOver."""
        try:
            self.table.update(
                keys.terminal_pk(terminal_id),
                keys.META,
                update=(
                    "SET lastSeenAt = :at, deviceFingerprintHash = if_not_exists(deviceFingerprintHash, :fp),"
                    " deviceBoundAt = if_not_exists(deviceBoundAt, :at)"
                ),
                condition=(
                    "attribute_exists(pk) AND (attribute_not_exists(deviceFingerprintHash)"
                    " OR deviceFingerprintHash = :fp)"
                ),
                attribute_values={"at": iso(at), "fp": fingerprint_hash},
            )
        except ConditionFailed as failed:
            raise DeviceTakenOver() from failed

    def set_push_connection(self, terminal_id: str, connection_id: str, *, at: datetime) -> None:
        """The terminal's push WebSocket from now on (a newer connection replaces an older one), and the
        connection's record of its terminal, kept a little past API Gateway's 2-hour connection limit."""
        expires = int(at.timestamp()) + _CONNECTION_TTL_SECONDS
        self.table.put(
            {
                **self.table.key(keys.connection_pk(connection_id), keys.META),
                "terminalId": {"S": terminal_id},
                "ttl": {"N": str(expires)},
            }
        )
        try:
            self.table.update(
                keys.terminal_pk(terminal_id),
                keys.META,
                update="SET pushConnectionId = :c, pushConnectedAt = :at",
                condition="attribute_exists(pk)",
                attribute_values={"c": connection_id, "at": iso(at)},
            )
        except ConditionFailed as failed:
            raise NotFound("No such terminal.") from failed

    def clear_push_connection(self, terminal_id: str, connection_id: str) -> bool:
        """Forget the connection only if it is still the terminal's: a refresh opens the new connection
        before it closes the old one, and the old one's $disconnect must not forget the new one."""
        try:
            self.table.update(
                keys.terminal_pk(terminal_id),
                keys.META,
                update="REMOVE pushConnectionId, pushConnectedAt",
                condition="pushConnectionId = :c",
                attribute_values={"c": connection_id},
            )
        except ConditionFailed:
            return False
        return True

    def forget_connection(self, connection_id: str) -> str | None:
        """Delete a closed connection's record; the terminal it belonged to, if it had one."""
        item = self.table.get(keys.connection_pk(connection_id), keys.META)
        if item is None:
            return None
        self.table.delete(keys.connection_pk(connection_id), keys.META)
        return str(item["terminalId"]["S"])  # type: ignore[typeddict-item]

    def push_connections(self, terminal_ids: list[str]) -> dict[str, str]:
        """terminalId -> its open push connection, for those of the given terminals that hold one."""
        if not terminal_ids:
            return {}
        items = self.table.batch_get(
            [(keys.terminal_pk(t), keys.META) for t in terminal_ids], projection="terminalId, pushConnectionId"
        )
        return {
            str(item["terminalId"]["S"]): str(item["pushConnectionId"]["S"])  # type: ignore[typeddict-item]
            for item in items
            if "pushConnectionId" in item and "terminalId" in item
        }

    def release_device(self, terminal_id: str, owner_id: str) -> None:
        self._owner_update(terminal_id, owner_id, "REMOVE deviceFingerprintHash, deviceBoundAt")

    def _owner_update(self, terminal_id: str, owner_id: str, update: str, **attribute_values: str) -> None:
        try:
            self.table.update(
                keys.terminal_pk(terminal_id),
                keys.META,
                update=update,
                condition="ownerId = :owner",
                attribute_values={**attribute_values, "owner": owner_id},
            )
        except ConditionFailed as failed:
            raise NotFound("No such terminal.") from failed

    def delete_terminal(self, terminal_id: str) -> None:
        """The terminal, everything under it (subscriptions, holdings snapshots) and the strategy side of
        each of its subscriptions, so no fan-out sends to its queue once this returns."""
        pk = keys.terminal_pk(terminal_id)
        own = [(pk, str(item["sk"]["S"])) for item in self.table.query_partition(pk)]  # type: ignore[typeddict-item]
        mirrored = [
            (keys.strategy_pk(keys.subscribed_id(sk)), keys.subscription_sk(terminal_id))
            for _, sk in own
            if sk.startswith(keys.SUBSCRIPTION)
        ]
        self.table.delete_all(mirrored + own)
