"""Terminals: one record each (listed per owner through gsi1; layout: dal/keys.py) with its device
binding; deleting a terminal removes its partition and the strategy side of its subscriptions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from quantlink.dal import keys
from quantlink.dal.codec import Item, from_item, to_item
from quantlink.dal.table import ConditionFailed, TableStore
from quantlink.errors import Conflict, DeviceTakenOver, NotFound, Unavailable
from quantlink.models import Terminal
from quantlink.throttling import RateCounted
from quantlink.timeutil import iso

_CONNECTION_TTL_SECONDS = 3 * 3600


def _string(item: Item, name: str) -> str | None:
    value = item.get(name)
    return str(value["S"]) if value is not None and "S" in value else None  # type: ignore[typeddict-item]


def _number(item: Item, name: str) -> int | None:
    value = item.get(name)
    return int(value["N"]) if value is not None and "N" in value else None  # type: ignore[typeddict-item]


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

    def claim_device(
        self, terminal_id: str, fingerprint_hash: str, *, at: datetime, rate: RateCounted | None = None
    ) -> None:
        """Claim the terminal for this device if unclaimed, check it otherwise, record lastSeenAt and,
        given a rate, count this call in its window, in one conditional write: of two devices racing for
        a fresh terminal exactly one wins, whatever either of them read before. Raises DeviceTakenOver,
        RateLimited."""
        device = "attribute_exists(pk) AND (attribute_not_exists(deviceFingerprintHash) OR deviceFingerprintHash = :fp)"
        claim = (
            "lastSeenAt = :at, deviceFingerprintHash = if_not_exists(deviceFingerprintHash, :fp),"
            " deviceBoundAt = if_not_exists(deviceBoundAt, :at)"
        )
        values = {"at": iso(at), "fp": fingerprint_hash}
        if rate is None:
            try:
                self.table.update(
                    keys.terminal_pk(terminal_id),
                    keys.META,
                    update=f"SET {claim}",
                    condition=device,
                    attribute_values=values,
                )
            except ConditionFailed as failed:
                raise DeviceTakenOver() from failed
            return

        def refusal(old: Item | None) -> Exception | None:
            if old is None or _string(old, "deviceFingerprintHash") not in (None, fingerprint_hash):
                return DeviceTakenOver()
            return None

        self._counted_update(terminal_id, rate, at, claim, device, values, refusal)

    def count_call(self, terminal_id: str, rate: RateCounted, *, at: datetime) -> None:
        """Count a call (an ack) in the terminal's window; raises RateLimited past the limit, NotFound
        for a terminal deleted since it was read."""

        def refusal(old: Item | None) -> Exception | None:
            return NotFound("No such terminal.") if old is None else None

        self._counted_update(terminal_id, rate, at, None, "attribute_exists(pk)", {}, refusal)

    def _counted_update(
        self,
        terminal_id: str,
        rate: RateCounted,
        at: datetime,
        also_set: str | None,
        condition: str,
        attribute_values: dict[str, str],
        refusal: Callable[[Item | None], Exception | None],
    ) -> None:
        """One conditional write that advances the rate's window counter (and sets `also_set`). It is
        shaped by the window the record held when read (`rate.seen_window`): the same window adds one
        below the limit, a newer one restarts at one. A condition that fails for another reason than
        the caller's `refusal` or the limit (the window moved meanwhile) is retried with what the
        record holds now, once per window a racing writer can have moved it to."""
        limit = rate.limit
        names = {"#w": limit.window_attribute, "#n": limit.count_attribute}
        seen_window = rate.seen_window
        for _ in range(3):
            window = max(limit.window(at), seen_window or 0)
            values: dict[str, str | int] = {**attribute_values, "w": window, "one": 1}
            if seen_window == window:
                counter, fits = "#n = #n + :one", "#w = :w AND #n < :limit"
                values["limit"] = limit.limit
            else:
                counter, fits = "#w = :w, #n = :one", "(attribute_not_exists(#w) OR #w < :w)"
            try:
                self.table.update(
                    keys.terminal_pk(terminal_id),
                    keys.META,
                    update="SET " + ", ".join(part for part in (also_set, counter) if part),
                    condition=f"{condition} AND {fits}",
                    names=names,
                    attribute_values=values,
                    return_old_on_failure=True,
                )
            except ConditionFailed as failed:
                old = failed.old
                refused = refusal(old)
                if refused is not None or old is None:
                    raise refused or Unavailable() from failed
                stored = _number(old, limit.window_attribute)
                if (
                    stored is not None
                    and stored >= limit.window(at)
                    and (_number(old, limit.count_attribute) or 0) >= limit.limit
                ):
                    raise limit.refused(at) from failed
                seen_window = stored
                continue
            return
        raise Unavailable("The terminal's record is changing too fast; retry.")

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
