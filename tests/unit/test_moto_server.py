"""The local stack's moto patches change costs, never answers: transactions still roll back exactly
(without copying the table), concurrent conditional writes to one key cannot both succeed, a Query
reads one partition and answers as before, and SQS keeps FIFO dedup and visibility."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models.table import Table

from quantlink_local.moto_server import patch_dynamodb, patch_sqs


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
                                      {"AttributeName": "sk", "AttributeType": "S"},
                                      {"AttributeName": "g", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                GlobalSecondaryIndexes=[{"IndexName": "gsi", "Projection": {"ProjectionType": "ALL"},
                                         "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}],
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


def test_a_query_reads_only_its_partition_and_answers_as_before(table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for partition in ("p1", "p2", "p3"):
        for n in range(12):
            table.put_item(TableName="t", Item={**key(partition, f"SIGNAL#{n:02d}"), "g": {"S": "all"}})
    table.put_item(TableName="t", Item=key("p1", "SUB#x"))

    def whole_table(self: Table) -> list[Any]:
        raise AssertionError("a base-table Query scanned the whole table")

    monkeypatch.setattr(Table, "all_items", whole_table)
    pages, start = [], None
    while True:
        kwargs: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
        page = table.query(
            TableName="t",
            KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
            ExpressionAttributeValues={":p": {"S": "p1"}, ":s": {"S": "SIGNAL#"}},
            ScanIndexForward=False,
            Limit=5,
            **kwargs,
        )
        pages.append([item["sk"]["S"] for item in page["Items"]])
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert [sk for page in pages for sk in page] == [f"SIGNAL#{n:02d}" for n in range(11, -1, -1)]
    assert [len(page) for page in pages][:2] == [5, 5]
    missing = table.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "x"}})
    assert missing["Items"] == []
    # an index Query still sees every partition (it needs the whole table, as before)
    monkeypatch.undo()
    by_index = table.query(TableName="t", IndexName="gsi", KeyConditionExpression="g = :g",
                           ExpressionAttributeValues={":g": {"S": "all"}})  # fmt: skip
    assert len(by_index["Items"]) == 36


def test_sqs_keeps_fifo_dedup_visibility_and_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    undo = patch_sqs()
    try:
        with mock_aws():
            sqs = boto3.client("sqs")
            url = sqs.create_queue(QueueName="q.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "30"})[
                "QueueUrl"
            ]
            for _ in range(2):  # the same deduplication id twice: one message
                sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="one")
            sqs.send_message(QueueUrl=url, MessageBody="b", MessageGroupId="g", MessageDeduplicationId="two")
            first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
            assert [m["Body"] for m in first] == ["a", "b"]
            # received messages stay invisible until their visibility timeout
            assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            assert attributes["FifoQueue"] == "true"
            assert attributes["VisibilityTimeout"] == "30"
            assert attributes["ApproximateNumberOfMessagesNotVisible"] == "2"
    finally:
        undo()


def test_the_memoized_dispatch_routes_every_host_as_moto_does() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from quantlink_local.moto_server import patch_dispatch

    hosts = ["sqs.us-east-1.amazonaws.com", "dynamodb.us-east-1.amazonaws.com", "cognito-idp.us-east-1.amazonaws.com",
             "s3.amazonaws.com", "email.us-east-1.amazonaws.com", "moto_api", "sts.amazonaws.com"]  # fmt: skip
    plain = DomainDispatcherApplication(create_backend_app)
    expected = [plain.get_backend_for_host(host) for host in hosts]
    undo = patch_dispatch()
    try:
        memoized = DomainDispatcherApplication(create_backend_app)
        assert [memoized.get_backend_for_host(host) for host in hosts] * 2 == [
            memoized.get_backend_for_host(host) for host in hosts * 2
        ]
        assert [memoized.get_backend_for_host(host) for host in hosts] == expected
    finally:
        undo()
