"""The local stack's moto patches: transactions still roll back exactly, without copying the table,
and concurrent conditional writes to one key cannot both succeed."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models.table import Table

from quantlink_local.moto_server import patch_dynamodb


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    undo = patch_dynamodb()

    def refuse(self: Table, memo: Any) -> Table:
        raise AssertionError("the whole table was deep-copied")

    monkeypatch.setattr(Table, "__deepcopy__", refuse, raising=False)
    try:
        with mock_aws():
            client = boto3.client("dynamodb")
            client.create_table(
                TableName="t",
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                      {"AttributeName": "sk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            )  # fmt: skip
            yield client
    finally:
        undo()


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def test_a_failed_transaction_leaves_every_item_as_it_was(table: Any) -> None:
    table.put_item(TableName="t", Item={**key("a", "1"), "v": {"N": "1"}})
    with pytest.raises(ClientError) as caught:
        table.transact_write_items(
            TransactItems=[
                {"Update": {"TableName": "t", "Key": key("a", "1"), "UpdateExpression": "SET v = :two",
                            "ExpressionAttributeValues": {":two": {"N": "2"}}}},
                {"Put": {"TableName": "t", "Item": key("b", "1"), "ConditionExpression": "attribute_not_exists(pk)"}},
                {"ConditionCheck": {"TableName": "t", "Key": key("zzz", "1"),
                                    "ConditionExpression": "attribute_exists(pk)"}},
            ]
        )  # fmt: skip
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert table.get_item(TableName="t", Key=key("a", "1"))["Item"]["v"] == {"N": "1"}
    assert "Item" not in table.get_item(TableName="t", Key=key("b", "1"))


def test_a_successful_transaction_applies_every_item(table: Any) -> None:
    table.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "t", "Item": key("c", "1"), "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": "t", "Item": key("c", "2"), "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
    )
    assert len(table.query(TableName="t", KeyConditionExpression="pk = :p",
                           ExpressionAttributeValues={":p": {"S": "c"}})["Items"]) == 2  # fmt: skip


def test_concurrent_conditional_puts_to_one_key_have_one_winner(table: Any) -> None:
    def put(n: int) -> bool:
        try:
            table.put_item(TableName="t", Item={**key("k", "1"), "n": {"N": str(n)}},
                           ConditionExpression="attribute_not_exists(pk)")  # fmt: skip
        except ClientError:
            return False
        return True

    with ThreadPoolExecutor(16) as pool:
        assert sum(pool.map(put, range(64))) == 1
