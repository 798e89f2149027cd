"""The DynamoDB single table. Key layout (pk / sk):

    STRATEGY#<id> / #META                      Strategy            (gsi1: OWNER#<uid> / STRATEGY#<created>)
    STRATEGY#<id> / DEDUP#<sha256>             dedup marker        (TTL)
    STRATEGY#<id> / SIGNAL#<signalId>          SignalRecord        (signal ids sort by time)
    STRATEGY#<id> / SIGNAL#<signalId>#D#<tid>  DeliveryRecord      (right after its signal)
    STRATEGY#<id> / SUB#<terminalId>           Subscription        (the hot path's one Query)
    STRATEGY#<id> / POSITIONS#<dt>             leader position snapshot
    TERMINAL#<id> / #META                      Terminal            (gsi1: OWNER#<uid> / TERMINAL#<created>)
    TERMINAL#<id> / SUB#<strategyId>           the same subscription seen from the terminal
    TERMINAL#<id> / POSITIONS#<asOf>           terminal holdings snapshot

ClientError never leaves this module: it becomes a domain exception or a domain answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from quantlink import aws
from quantlink.concurrency import map_concurrently
from quantlink.dal import guarded
from quantlink.dal.codec import Item, from_item, to_item, to_python, value, values
from quantlink.errors import Conflict, DeviceTakenOver, DuplicateSignal, NotFound, Unavailable
from quantlink.models import (
    DeliveryRecord,
    DeliveryStatus,
    Outcome,
    SignalRecord,
    SignalStatus,
    Strategy,
    Subscription,
    Terminal,
)
from quantlink.timeutil import epoch_ms, iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef, WriteRequestTypeDef

META = "#META"
_CONDITION_FAILED = "ConditionalCheckFailedException"
_TRANSACT_ITEMS_MAX = 100
_BATCH_WRITE_MAX = 25
_BATCH_ATTEMPTS = 6
_CONFLICT_ATTEMPTS = 4


def strategy_pk(strategy_id: str) -> str:
    return f"STRATEGY#{strategy_id}"


def terminal_pk(terminal_id: str) -> str:
    return f"TERMINAL#{terminal_id}"


def signal_sk(signal_id: str) -> str:
    return f"SIGNAL#{signal_id}"


def delivery_sk(signal_id: str, terminal_id: str) -> str:
    return f"SIGNAL#{signal_id}#D#{terminal_id}"


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@dataclass(frozen=True)
class TimelineEntry:
    signal: SignalRecord
    deliveries: list[DeliveryRecord]


class DynamoStore:
    """Every read and write QuantLink makes to its table."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            self._client = guarded(aws.dynamodb())
        return self._client

    def _key(self, pk: str, sk: str) -> Item:
        return {"pk": {"S": pk}, "sk": {"S": sk}}

    def _get(self, pk: str, sk: str, *, consistent: bool = True) -> Item | None:
        answer = self.client.get_item(TableName=self.table_name, Key=self._key(pk, sk), ConsistentRead=consistent)
        return answer.get("Item")

    def _query(self, **kwargs: Any) -> Iterator[Item]:
        kwargs.setdefault("TableName", self.table_name)
        while True:
            page = self.client.query(**kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _query_prefix(self, pk: str, prefix: str, *, consistent: bool = True) -> Iterator[Item]:
        return self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=values(pk=pk, prefix=prefix),
            ConsistentRead=consistent,
        )

    def _transact(self, items: list[TransactWriteItemTypeDef]) -> None:
        for start in range(0, len(items), _TRANSACT_ITEMS_MAX):
            self.client.transact_write_items(TransactItems=items[start : start + _TRANSACT_ITEMS_MAX])

    def _batch_write(self, requests: list[WriteRequestTypeDef]) -> None:
        """Chunks of 25 (the API's limit), sent concurrently, each retried until fully processed."""

        def write(chunk: list[WriteRequestTypeDef]) -> None:
            pending: dict[str, Any] = {self.table_name: chunk}
            for attempt in range(_BATCH_ATTEMPTS):
                answer = self.client.batch_write_item(RequestItems=pending)
                pending = dict(answer.get("UnprocessedItems") or {})
                if not pending:
                    return
                time.sleep(min(1.0, 0.05 * 2**attempt))  # throttled: back off, as DynamoDB asks
            raise Unavailable("DynamoDB kept throttling the write; retry.")

        chunks = [requests[start : start + _BATCH_WRITE_MAX] for start in range(0, len(requests), _BATCH_WRITE_MAX)]
        failures = [r for r in map_concurrently(write, chunks) if isinstance(r, BaseException)]
        if failures:
            raise failures[0]

    # ---- strategies -------------------------------------------------------------------------------

    def put_strategy(self, strategy: Strategy) -> None:
        item = to_item(
            strategy,
            pk=strategy_pk(strategy.strategy_id),
            sk=META,
            gsi1pk=f"OWNER#{strategy.owner_id}",
            gsi1sk=f"STRATEGY#{iso(strategy.created_at)}#{strategy.strategy_id}",
        )
        try:
            self.client.put_item(TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if _error_code(error) == _CONDITION_FAILED:
                raise Conflict("A strategy with this id already exists.") from error
            raise

    def get_strategy(self, strategy_id: str) -> Strategy | None:
        item = self._get(strategy_pk(strategy_id), META)
        return from_item(Strategy, item) if item else None

    def list_owned(self, owner_id: str, kind: str) -> Iterator[dict[str, Any]]:
        for item in self._query(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :kind)",
            ExpressionAttributeValues=values(pk=f"OWNER#{owner_id}", kind=f"{kind}#"),
            ScanIndexForward=False,
        ):
            yield to_python(item)

    def list_strategies(self, owner_id: str) -> list[Strategy]:
        return [Strategy.model_validate(data) for data in self.list_owned(owner_id, "STRATEGY")]

    def set_webhook_token_hash(self, strategy_id: str, owner_id: str, token_hash: str) -> None:
        self._set_secret_hash(strategy_pk(strategy_id), owner_id, "webhookTokenHash", token_hash, "strategy")

    def set_terminal_token_hash(self, terminal_id: str, owner_id: str, token_hash: str) -> None:
        self._set_secret_hash(terminal_pk(terminal_id), owner_id, "authTokenHash", token_hash, "terminal")

    def _set_secret_hash(self, pk: str, owner_id: str, attribute: str, token_hash: str, what: str) -> None:
        """Replace a token's hash, only on the owner's own record: the old token stops working at once."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(pk, META),
                UpdateExpression="SET #attribute = :hash",
                ConditionExpression="ownerId = :owner",
                ExpressionAttributeNames={"#attribute": attribute},
                ExpressionAttributeValues=values(hash=token_hash, owner=owner_id),
            )
        except ClientError as error:
            if _error_code(error) == _CONDITION_FAILED:
                raise NotFound(f"No such {what}.") from error
            raise

    # ---- signals: the hot path ---------------------------------------------------------------------

    def record_signal(self, signal: SignalRecord, *, dedup_ttl_seconds: int, lease_until: datetime) -> None:
        """Dedup marker and signal record in one transaction: both or neither.

        Raises DuplicateSignal with the first signal's id when the marker already exists. A marker past
        its TTL counts as absent (DynamoDB deletes expired items lazily; moto never does)."""
        now_s = int(signal.received_at.timestamp())
        pk = strategy_pk(signal.strategy_id)
        marker = {
            "pk": value(pk),
            "sk": value(f"DEDUP#{signal.dedup_key}"),
            "signalId": value(signal.signal_id),
            "ttl": value(now_s + dedup_ttl_seconds),
        }
        record = to_item(signal, pk=pk, sk=signal_sk(signal.signal_id), fanoutLeaseUntil=epoch_ms(lease_until))
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": marker,
                    "ConditionExpression": "attribute_not_exists(pk) OR #ttl < :now",
                    "ExpressionAttributeNames": {"#ttl": "ttl"},
                    "ExpressionAttributeValues": values(now=now_s),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {"Put": {"TableName": self.table_name, "Item": record, "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                self.client.transact_write_items(TransactItems=items)
                return
            except ClientError as error:
                if _error_code(error) != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons", [])  # type: ignore[typeddict-item]
                codes = [reason.get("Code") for reason in reasons]
                if codes and codes[0] == "ConditionalCheckFailed":
                    old = reasons[0].get("Item")
                    signal_id = to_python(old)["signalId"] if old else self._dedup_signal_id(pk, signal.dedup_key)
                    raise DuplicateSignal(signal_id) from error
                if "TransactionConflict" not in codes:
                    raise
                # The identical webhook's transaction is in flight: once it lands, this one is a duplicate.
                time.sleep(0.02 * 2**attempt)
        raise Unavailable("The signal is being recorded by a concurrent request; retry with the same body.")

    def _dedup_signal_id(self, pk: str, dedup_key: str) -> str:
        item = self._get(pk, f"DEDUP#{dedup_key}")
        if item is None:  # expired between the failed write and now: the caller may retry
            raise Conflict("The webhook raced with its own expiry; retry.")
        return str(to_python(item)["signalId"])

    def get_signal(self, strategy_id: str, signal_id: str) -> SignalRecord | None:
        item = self._get(strategy_pk(strategy_id), signal_sk(signal_id))
        return from_item(SignalRecord, item) if item else None

    def claim_fanout(self, strategy_id: str, signal_id: str, *, now: datetime, lease_until: datetime) -> bool:
        """Take the right to (re-)drive a RECEIVED signal whose previous fan-out lease ran out."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(strategy_pk(strategy_id), signal_sk(signal_id)),
                UpdateExpression="SET fanoutLeaseUntil = :until",
                ConditionExpression=(
                    "#s = :received AND (attribute_not_exists(fanoutLeaseUntil) OR fanoutLeaseUntil < :now)"
                ),
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values(
                    until=epoch_ms(lease_until), received=SignalStatus.RECEIVED.value, now=epoch_ms(now)
                ),
            )
        except ClientError as error:
            if _error_code(error) == _CONDITION_FAILED:
                return False
            raise
        return True

    def release_fanout(self, strategy_id: str, signal_id: str) -> None:
        """Give the lease back after a failed fan-out so an immediate retry can re-drive."""
        self.client.update_item(
            TableName=self.table_name,
            Key=self._key(strategy_pk(strategy_id), signal_sk(signal_id)),
            UpdateExpression="REMOVE fanoutLeaseUntil",
            ConditionExpression="#s = :received",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values(received=SignalStatus.RECEIVED.value),
        )

    def subscriptions_for(self, strategy_id: str) -> list[Subscription]:
        return [from_item(Subscription, item) for item in self._query_prefix(strategy_pk(strategy_id), "SUB#")]

    def deliveries_of(self, strategy_id: str, signal_id: str) -> list[DeliveryRecord]:
        items = self._query_prefix(strategy_pk(strategy_id), f"{signal_sk(signal_id)}#D#")
        return [from_item(DeliveryRecord, item) for item in items]

    def put_deliveries(self, deliveries: list[DeliveryRecord]) -> None:
        self._batch_write(
            [
                {
                    "PutRequest": {
                        "Item": to_item(
                            delivery,
                            pk=strategy_pk(delivery.strategy_id),
                            sk=delivery_sk(delivery.signal_id, delivery.terminal_id),
                        )
                    }
                }
                for delivery in deliveries
            ]
        )

    def mark_fanned_out(self, strategy_id: str, signal_id: str, *, deliveries: int, at: datetime) -> None:
        self.client.update_item(
            TableName=self.table_name,
            Key=self._key(strategy_pk(strategy_id), signal_sk(signal_id)),
            UpdateExpression="SET #s = :done, fannedOutAt = :at, deliveries = :n REMOVE fanoutLeaseUntil",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values(done=SignalStatus.FANNED_OUT.value, at=iso(at), n=deliveries),
        )

    def mark_pulled(self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime) -> DeliveryStatus | None:
        """QUEUED/PULLED → PULLED (first pull time kept). Returns the status the delivery now has, or
        None when the delivery record does not exist."""
        return self._transition(
            strategy_id,
            signal_id,
            terminal_id,
            update="SET #s = :new, pulledAt = if_not_exists(pulledAt, :at)",
            new=DeliveryStatus.PULLED,
            at=at,
        )

    def mark_expired(
        self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime
    ) -> DeliveryStatus | None:
        return self._transition(
            strategy_id,
            signal_id,
            terminal_id,
            update="SET #s = :new, expiredAt = :at",
            new=DeliveryStatus.EXPIRED,
            at=at,
        )

    def record_outcome(
        self,
        strategy_id: str,
        signal_id: str,
        terminal_id: str,
        status: DeliveryStatus,
        outcome: Outcome,
        *,
        at: datetime,
    ) -> DeliveryStatus | None:
        return self._transition(
            strategy_id,
            signal_id,
            terminal_id,
            update="SET #s = :new, ackedAt = :at, outcome = :outcome, pulledAt = if_not_exists(pulledAt, :at)",
            new=status,
            at=at,
            outcome=outcome.model_dump(mode="json", by_alias=True, exclude_none=True),
        )

    def _transition(
        self,
        strategy_id: str,
        signal_id: str,
        terminal_id: str,
        *,
        update: str,
        new: DeliveryStatus,
        at: datetime,
        **extra: Any,
    ) -> DeliveryStatus | None:
        """Move a delivery out of QUEUED/PULLED. A final status is never overwritten: the current one is
        returned instead, which makes pulls of redelivered messages and repeated acks harmless."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(strategy_pk(strategy_id), delivery_sk(signal_id, terminal_id)),
                UpdateExpression=update,
                ConditionExpression="#s IN (:queued, :pulled)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values(
                    new=new.value,
                    at=iso(at),
                    queued=DeliveryStatus.QUEUED.value,
                    pulled=DeliveryStatus.PULLED.value,
                    **extra,
                ),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _error_code(error) != _CONDITION_FAILED:
                raise
            old: dict[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
            return DeliveryStatus(to_python(old)["status"]) if old else None
        return new

    def timeline(self, strategy_id: str, *, limit: int, before: str | None = None) -> list[TimelineEntry]:
        """Newest signals first, each with its deliveries (which sort just after it: one Query)."""
        upper = signal_sk(before) if before else "SIGNAL$"
        items = self._query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=values(pk=strategy_pk(strategy_id), lo="SIGNAL#", hi=upper),
            ScanIndexForward=False,
        )
        entries: list[TimelineEntry] = []
        pending: list[DeliveryRecord] = []
        for item in items:
            sk = item["sk"]["S"]  # type: ignore[typeddict-item]
            if sk == upper:
                continue
            if "#D#" in sk:
                pending.append(from_item(DeliveryRecord, item))
                continue
            signal = from_item(SignalRecord, item)
            entries.append(TimelineEntry(signal, [d for d in reversed(pending) if d.signal_id == signal.signal_id]))
            pending = []
            if len(entries) >= limit:
                break
        return entries

    def put_leader_positions(self, strategy_id: str, snapshot: dict[str, Any], *, at: datetime) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item={
                "pk": value(strategy_pk(strategy_id)),
                "sk": value(f"POSITIONS#{iso(at)}"),
                **{name: value(v) for name, v in snapshot.items() if v is not None},
            },
        )

    # ---- terminals --------------------------------------------------------------------------------

    def put_terminal(self, terminal: Terminal) -> None:
        item = to_item(
            terminal,
            pk=terminal_pk(terminal.terminal_id),
            sk=META,
            gsi1pk=f"OWNER#{terminal.owner_id}",
            gsi1sk=f"TERMINAL#{iso(terminal.created_at)}#{terminal.terminal_id}",
        )
        try:
            self.client.put_item(TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if _error_code(error) == _CONDITION_FAILED:
                raise Conflict("A terminal with this id already exists.") from error
            raise

    def get_terminal(self, terminal_id: str) -> Terminal | None:
        item = self._get(terminal_pk(terminal_id), META)
        return from_item(Terminal, item) if item else None

    def list_terminals(self, owner_id: str) -> list[Terminal]:
        return [Terminal.model_validate(data) for data in self.list_owned(owner_id, "TERMINAL")]

    def touch_terminal(self, terminal_id: str, fingerprint_hash: str, *, at: datetime) -> None:
        """Claim the terminal for this device if unclaimed, check it otherwise, and record lastSeenAt,
        in one conditional write: of two devices racing for a fresh terminal exactly one wins."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(terminal_pk(terminal_id), META),
                UpdateExpression=(
                    "SET lastSeenAt = :at, deviceFingerprintHash = if_not_exists(deviceFingerprintHash, :fp),"
                    " deviceBoundAt = if_not_exists(deviceBoundAt, :at)"
                ),
                ConditionExpression=(
                    "attribute_exists(pk) AND (attribute_not_exists(deviceFingerprintHash)"
                    " OR deviceFingerprintHash = :fp)"
                ),
                ExpressionAttributeValues=values(at=iso(at), fp=fingerprint_hash),
            )
        except ClientError as error:
            if _error_code(error) == _CONDITION_FAILED:
                raise DeviceTakenOver() from error
            raise

    def release_device(self, terminal_id: str, owner_id: str) -> None:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(terminal_pk(terminal_id), META),
                UpdateExpression="REMOVE deviceFingerprintHash, deviceBoundAt",
                ConditionExpression="ownerId = :owner",
                ExpressionAttributeValues=values(owner=owner_id),
            )
        except ClientError as error:
            if _error_code(error) == _CONDITION_FAILED:
                raise NotFound("No such terminal.") from error
            raise

    def put_terminal_positions(self, terminal_id: str, snapshot: dict[str, Any], *, at: datetime) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item={
                "pk": value(terminal_pk(terminal_id)),
                "sk": value(f"POSITIONS#{iso(at)}"),
                **{name: value(v) for name, v in snapshot.items() if v is not None},
            },
        )

    def delete_terminal(self, terminal: Terminal) -> None:
        """The terminal, its subscriptions (both sides) and its snapshots."""
        pk = terminal_pk(terminal.terminal_id)
        partition = self._query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues=values(pk=pk), ConsistentRead=True
        )
        own = [(pk, str(item["sk"]["S"])) for item in partition]  # type: ignore[typeddict-item]
        mirrored = [
            (strategy_pk(sk.removeprefix("SUB#")), f"SUB#{terminal.terminal_id}")
            for _, sk in own
            if sk.startswith("SUB#")
        ]
        keys = mirrored + own
        self._batch_write([{"DeleteRequest": {"Key": self._key(p, s)}} for p, s in keys])

    # ---- subscriptions ----------------------------------------------------------------------------

    def put_subscription(self, subscription: Subscription) -> None:
        """Both sides in one transaction; the terminal must still exist."""
        try:
            self._transact(
                [
                    {
                        "ConditionCheck": {
                            "TableName": self.table_name,
                            "Key": self._key(terminal_pk(subscription.terminal_id), META),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": to_item(
                                subscription,
                                pk=strategy_pk(subscription.strategy_id),
                                sk=f"SUB#{subscription.terminal_id}",
                            ),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {
                                "pk": value(terminal_pk(subscription.terminal_id)),
                                "sk": value(f"SUB#{subscription.strategy_id}"),
                                "strategyId": value(subscription.strategy_id),
                            },
                        }
                    },
                ]
            )
        except ClientError as error:
            if _error_code(error) == "TransactionCanceledException":
                raise NotFound("No such terminal.") from error
            raise

    def delete_subscription(self, terminal_id: str, strategy_id: str) -> None:
        self._transact(
            [
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": self._key(strategy_pk(strategy_id), f"SUB#{terminal_id}"),
                    }
                },
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": self._key(terminal_pk(terminal_id), f"SUB#{strategy_id}"),
                    }
                },
            ]
        )

    def subscribed_strategy_ids(self, terminal_id: str) -> list[str]:
        return [str(to_python(item)["strategyId"]) for item in self._query_prefix(terminal_pk(terminal_id), "SUB#")]
