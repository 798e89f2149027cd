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
