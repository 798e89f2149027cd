"""The plumbing every store shares: one DynamoDB table, its lazily built client, and the calls made on it.

ClientError stops here. A false condition becomes `ConditionFailed` (a cancelled transaction,
`TransactionCanceled`), which each store turns into a domain exception or a domain answer; throttling
was already turned into `Unavailable` by the guarded client; anything else is a bug and propagates."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from quantlink import aws
from quantlink.concurrency import map_concurrently
from quantlink.dal import guarded
from quantlink.dal.codec import Item, values
from quantlink.errors import Unavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef, WriteRequestTypeDef

_TRANSACT_ITEMS_MAX = 100
_BATCH_WRITE_MAX = 25
_BATCH_GET_MAX = 100
_BATCH_ATTEMPTS = 6


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class ConditionFailed(Exception):
    """A conditional write found its condition false; `old` is the item as it was, when asked for."""

    def __init__(self, old: Item | None = None) -> None:
        super().__init__("conditional check failed")
        self.old = old


class TransactionCanceled(Exception):
    """A transaction was cancelled; `reasons` has one entry per item, in order (Code, and Item if asked)."""

    def __init__(self, reasons: list[Mapping[str, Any]]) -> None:
        super().__init__("transaction canceled")
        self.reasons = reasons

    @property
    def codes(self) -> list[str | None]:
        return [reason.get("Code") for reason in self.reasons]

    def condition_failed_at(self, index: int) -> bool:
        return len(self.reasons) > index and self.reasons[index].get("Code") == "ConditionalCheckFailed"

    def old_item(self, index: int) -> Item | None:
        item: Item | None = self.reasons[index].get("Item") if len(self.reasons) > index else None
        return item


def _expression(
    condition: str | None, names: Mapping[str, str] | None, attribute_values: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The optional expression arguments of a write, with values given as plain Python."""
    args: dict[str, Any] = {}
    if condition is not None:
        args["ConditionExpression"] = condition
    if names:
        args["ExpressionAttributeNames"] = dict(names)
    if attribute_values:
        args["ExpressionAttributeValues"] = values(**attribute_values)
    return args


class Table:
    """One DynamoDB table; the client is built on first use (never at import) and can be injected."""

    def __init__(self, name: str, client: DynamoDBClient | None = None) -> None:
        self.name = name
        self._client = client

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            self._client = guarded(aws.dynamodb())
        return self._client

    @staticmethod
    def key(pk: str, sk: str) -> Item:
        return {"pk": {"S": pk}, "sk": {"S": sk}}

    # ---- reads ------------------------------------------------------------------------------------

    def get(self, pk: str, sk: str, *, consistent: bool = True) -> Item | None:
        answer = self.client.get_item(TableName=self.name, Key=self.key(pk, sk), ConsistentRead=consistent)
        return answer.get("Item")

    def query(self, **kwargs: Any) -> Iterator[Item]:
        """Every page of a Query (the caller stops iterating when it has enough)."""
        kwargs.setdefault("TableName", self.name)
        while True:
            page = self.client.query(**kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def query_prefix(self, pk: str, prefix: str, *, consistent: bool = True) -> Iterator[Item]:
        return self.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=values(pk=pk, prefix=prefix),
            ConsistentRead=consistent,
        )

    def query_gsi1(self, pk: str, prefix: str, *, newest_first: bool = True) -> Iterator[Item]:
        """The owners' index (eventually consistent, as every GSI)."""
        return self.query(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
            ExpressionAttributeValues=values(pk=pk, prefix=prefix),
            ScanIndexForward=not newest_first,
        )

    def query_gsi2(self, pk: str, prefix: str, *, newest_first: bool = True) -> Iterator[Item]:
        """The recipients' index (a share is listed by its owner on gsi1 and its recipient here)."""
        return self.query(
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :pk AND begins_with(gsi2sk, :prefix)",
            ExpressionAttributeValues=values(pk=pk, prefix=prefix),
            ScanIndexForward=not newest_first,
        )

    def batch_get(self, keys: list[tuple[str, str]], *, projection: str) -> list[Item]:
        """Items by key, eventually consistent, in chunks of 100 (the API's limit) read concurrently; a key
        with no item is simply absent from the answer."""

        def read(chunk: list[tuple[str, str]]) -> list[Item]:
            found: list[Item] = []
            request: dict[str, Any] = {
                self.name: {"Keys": [self.key(pk, sk) for pk, sk in chunk], "ProjectionExpression": projection}
            }
            for attempt in range(_BATCH_ATTEMPTS):
                answer = self.client.batch_get_item(RequestItems=request)
                found.extend(answer.get("Responses", {}).get(self.name, []))
                request = dict(answer.get("UnprocessedKeys") or {})
                if not request:
                    return found
                time.sleep(min(1.0, 0.05 * 2**attempt))
            raise Unavailable("DynamoDB kept throttling the read; retry.")

        chunks = [keys[start : start + _BATCH_GET_MAX] for start in range(0, len(keys), _BATCH_GET_MAX)]
        results = map_concurrently(read, chunks)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise failures[0]
        return [item for r in results if isinstance(r, list) for item in r]

    def query_partition(self, pk: str) -> Iterator[Item]:
        return self.query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues=values(pk=pk), ConsistentRead=True
        )

    # ---- single-item writes -----------------------------------------------------------------------

    def put(
        self, item: Item, *, condition: str | None = None, attribute_values: Mapping[str, Any] | None = None
    ) -> None:
        """Raises ConditionFailed when `condition` is false."""
        try:
            self.client.put_item(TableName=self.name, Item=item, **_expression(condition, None, attribute_values))
        except ClientError as error:
            _raise_condition_failed(error, None)
            raise

    def delete(self, pk: str, sk: str, *, condition: str | None = None) -> None:
        """Raises ConditionFailed when `condition` is false."""
        try:
            self.client.delete_item(TableName=self.name, Key=self.key(pk, sk), **_expression(condition, None, None))
        except ClientError as error:
            _raise_condition_failed(error, None)
            raise

    def update(
        self,
        pk: str,
        sk: str,
        *,
        update: str,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        attribute_values: Mapping[str, Any] | None = None,
        return_old_on_failure: bool = False,
    ) -> None:
        """Raises ConditionFailed (with the item as it was, if asked) when `condition` is false."""
        args = _expression(condition, names, attribute_values)
        if return_old_on_failure:
            args["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            self.client.update_item(TableName=self.name, Key=self.key(pk, sk), UpdateExpression=update, **args)
        except ClientError as error:
            _raise_condition_failed(error, error.response.get("Item"))  # type: ignore[arg-type]
            raise

    # ---- transactions and batches -----------------------------------------------------------------

    def put_op(
        self,
        item: Item,
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        attribute_values: Mapping[str, Any] | None = None,
        return_old_on_failure: bool = False,
    ) -> TransactWriteItemTypeDef:
        put: dict[str, Any] = {"TableName": self.name, "Item": item, **_expression(condition, names, attribute_values)}
        if return_old_on_failure:
            put["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"Put": put}  # type: ignore[typeddict-item]

    def update_op(
        self,
        pk: str,
        sk: str,
        *,
        update: str,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        attribute_values: Mapping[str, Any] | None = None,
    ) -> TransactWriteItemTypeDef:
        op: dict[str, Any] = {"TableName": self.name, "Key": self.key(pk, sk), "UpdateExpression": update}
        op.update(_expression(condition, names, attribute_values))
        return {"Update": op}  # type: ignore[typeddict-item]

    def delete_op(self, pk: str, sk: str) -> TransactWriteItemTypeDef:
        return {"Delete": {"TableName": self.name, "Key": self.key(pk, sk)}}

    def check_op(self, pk: str, sk: str, condition: str) -> TransactWriteItemTypeDef:
        return {"ConditionCheck": {"TableName": self.name, "Key": self.key(pk, sk), "ConditionExpression": condition}}

    def transact(self, items: list[TransactWriteItemTypeDef]) -> None:
        """All or nothing within each chunk of 100 items (DynamoDB's limit); raises TransactionCanceled."""
        for start in range(0, len(items), _TRANSACT_ITEMS_MAX):
            try:
                self.client.transact_write_items(TransactItems=items[start : start + _TRANSACT_ITEMS_MAX])
            except ClientError as error:
                if error_code(error) == "TransactionCanceledException":
                    reasons = error.response.get("CancellationReasons", [])  # type: ignore[typeddict-item]
                    raise TransactionCanceled(list(reasons)) from error
                raise

    def batch_write(self, requests: list[WriteRequestTypeDef]) -> None:
        """Chunks of 25 (the API's limit), sent concurrently, each retried until fully processed."""

        def write(chunk: list[WriteRequestTypeDef]) -> None:
            pending: dict[str, Any] = {self.name: chunk}
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

    def put_all(self, items: list[Item]) -> None:
        self.batch_write([{"PutRequest": {"Item": item}} for item in items])

    def delete_all(self, keys: list[tuple[str, str]]) -> None:
        self.batch_write([{"DeleteRequest": {"Key": self.key(pk, sk)}} for pk, sk in keys])


class TableStore:
    """The base of every store: the one table it reads and writes."""

    def __init__(self, table: Table) -> None:
        self.table = table


def _raise_condition_failed(error: ClientError, old: Item | None) -> None:
    if error_code(error) == "ConditionalCheckFailedException":
        raise ConditionFailed(old) from error
