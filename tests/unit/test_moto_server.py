"""The local stack's moto patches change costs, never answers: transactions still roll back exactly
(without copying the table), concurrent conditional writes to one key cannot both succeed, a Query
reads one partition and answers as before, and SQS keeps FIFO dedup and visibility."""

from __future__ import annotations

import unittest.mock
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models.table import Table

from quantlink_local.moto_server import patch_dynamodb, patch_sqs
from tests.unit.test_persistence import make_table


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


def test_sends_and_receives_count_no_message_and_answer_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.sqs.models import Queue

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    counted: list[str] = []  # each time a queue's messages were counted
    for name in ("approximate_number_of_messages", "approximate_number_of_messages_not_visible"):
        count = getattr(Queue, name)
        monkeypatch.setattr(Queue, name, property(lambda q, fget=count.fget: counted.append(q.name) or fget(q)))
    undo = patch_sqs()
    try:
        with mock_aws():
            sqs = boto3.client("sqs")
            by_body = sqs.create_queue(
                QueueName="c.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
            )["QueueUrl"]
            plain = sqs.create_queue(QueueName="plain")["QueueUrl"]
            for body in ("a", "a", "b"):  # the same body twice: one message
                sqs.send_message(QueueUrl=by_body, MessageBody=body, MessageGroupId="g")
                sqs.send_message(QueueUrl=plain, MessageBody=body)
            sqs.send_message_batch(QueueUrl=by_body, Entries=[{"Id": "1", "MessageBody": "b", "MessageGroupId": "g"}])
            with pytest.raises(sqs.exceptions.ClientError):  # no group id: refused, as moto alone does
                sqs.send_message(QueueUrl=by_body, MessageBody="c")
            got = sqs.receive_message(QueueUrl=by_body, MaxNumberOfMessages=10)["Messages"]
            assert [m["Body"] for m in got] == ["a", "b"]
            named = sqs.get_queue_attributes(QueueUrl=by_body, AttributeNames=["ContentBasedDeduplication"])
            assert named["Attributes"] == {"ContentBasedDeduplication": "true"}
            assert counted == []  # no send, receive or named attribute counted the queue's messages
            attributes = sqs.get_queue_attributes(QueueUrl=by_body, AttributeNames=["All"])["Attributes"]
            assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == (
                "0",
                "2",
            )
            plain_count = sqs.get_queue_attributes(QueueUrl=plain, AttributeNames=["ApproximateNumberOfMessages"])
            assert plain_count["Attributes"] == {"ApproximateNumberOfMessages": "3"}
            assert counted  # asked for, the counts are made
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


def test_the_memoized_url_matching_finds_the_rules_moto_finds() -> None:
    from moto.moto_server.werkzeug_app import create_backend_app
    from werkzeug.exceptions import NotFound

    from quantlink_local.moto_server import patch_dispatch

    requests = [("sqs", "/", "POST"), ("sqs", "/123456789012/q.fifo", "POST"), ("dynamodb", "/", "POST"),
                ("s3", "/bucket/some/key", "GET"), ("s3", "/bucket", "PUT"), ("sqs", "/", "GET")]  # fmt: skip

    def matches() -> list[Any]:
        found = []
        for service, path, method in requests * 2:
            adapter = create_backend_app(service).url_map.bind("localhost")
            try:
                rule, values = adapter.match(path, method, return_rule=True)
                found.append((rule.rule, rule.endpoint, sorted(values.items())))
                values["touched"] = True  # a caller's change must not reach the next match
            except NotFound:
                found.append("404")
        return found

    expected = matches()
    undo = patch_dispatch()
    try:
        assert matches() == expected
    finally:
        undo()


@pytest.mark.parametrize(
    ("condition", "values"),
    [
        ("begins_with(sk, :a)", {":a": "SIGNAL#1"}),
        ("begins_with(sk, :a)", {":a": "zz"}),
        ("sk = :a", {":a": "SIGNAL#10"}),
        ("sk BETWEEN :a AND :b", {":a": "D#", ":b": "SIGNAL#05"}),
        ("sk < :a", {":a": "SIGNAL#03"}),
        ("sk <= :a", {":a": "SIGNAL#03"}),
        ("sk > :a", {":a": "SIGNAL#17"}),
        ("sk >= :a", {":a": "SIGNAL#17"}),
    ],
)
def test_a_ranged_query_slices_the_ordered_partition_and_answers_as_a_full_pass(
    table: Any, condition: str, values: dict[str, str]
) -> None:
    """The partition's ordered keys follow puts, deletes and a failed transaction's rollback."""
    for n in range(20):
        table.put_item(TableName="t", Item=key("p", f"SIGNAL#{n:02d}"))
        table.put_item(TableName="t", Item=key("p", f"D#{n:02d}"))
    table.query(TableName="t", KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                ExpressionAttributeValues={":p": {"S": "p"}, ":s": {"S": "S"}})  # fmt: skip  # orders the partition
    table.delete_item(TableName="t", Key=key("p", "SIGNAL#04"))
    table.put_item(TableName="t", Item=key("p", "SIGNAL#045"))
    with pytest.raises(ClientError):
        table.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": key("p", "SIGNAL#10a")}},
                {"ConditionCheck": {"TableName": "t", "Key": key("p", "none"),
                                    "ConditionExpression": "attribute_exists(pk)"}},
            ]
        )  # fmt: skip
    keys = sorted([f"SIGNAL#{n:02d}" for n in range(20) if n != 4] + ["SIGNAL#045"] + [f"D#{n:02d}" for n in range(20)])
    ops = {"begins_with(sk, :a)": lambda k, v: k.startswith(v[":a"]), "sk = :a": lambda k, v: k == v[":a"],
           "sk BETWEEN :a AND :b": lambda k, v: v[":a"] <= k <= v[":b"], "sk < :a": lambda k, v: k < v[":a"],
           "sk <= :a": lambda k, v: k <= v[":a"], "sk > :a": lambda k, v: k > v[":a"],
           "sk >= :a": lambda k, v: k >= v[":a"]}  # fmt: skip
    answer = table.query(
        TableName="t",
        KeyConditionExpression=f"pk = :p AND {condition}",
        ExpressionAttributeValues={":p": {"S": "p"}, **{k: {"S": v} for k, v in values.items()}},
    )
    assert [item["sk"]["S"] for item in answer["Items"]] == [k for k in keys if ops[condition](k, values)]


def test_an_index_query_answers_as_moto_alone_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Work-list shards (gsi1pk = shard, gsi1sk = time): the prefiltered Query answers item for item,
    in pages of the same limit, as unpatched moto (which may end on one more, empty, page: DynamoDB may too)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

    def pages(patched: bool) -> list[list[str]]:
        undo = patch_dynamodb() if patched else (lambda: None)
        try:
            with mock_aws():
                client = boto3.client("dynamodb")
                client.create_table(
                    TableName="t", BillingMode="PAY_PER_REQUEST",
                    AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g", "gs")],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                    GlobalSecondaryIndexes=[{"IndexName": "gsi1", "Projection": {"ProjectionType": "ALL"},
                                             "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                           {"AttributeName": "gs", "KeyType": "RANGE"}]}],
                )  # fmt: skip
                for n in range(60):
                    item = key(f"p{n % 7}", f"D#{n:02d}")
                    if n % 5:  # some items are not in the index at all
                        item |= {"g": {"S": f"SHARD#{n % 3}"}, "gs": {"S": f"2026-01-{n % 28 + 1:02d}#{n}"}}
                    client.put_item(TableName="t", Item=item)
                found, start = [], None
                while True:
                    extra: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
                    values = {":g": {"S": "SHARD#1"}, ":before": {"S": "2026-01-20"}}
                    page = client.query(TableName="t", IndexName="gsi1", Limit=4, ExpressionAttributeValues=values,
                                        KeyConditionExpression="g = :g AND gs < :before", **extra)  # fmt: skip
                    found.append([item["sk"]["S"] for item in page["Items"]])
                    start = page.get("LastEvaluatedKey")
                    if not start:
                        return found
        finally:
            undo()

    expected, answered = pages(patched=False), pages(patched=True)
    assert sum(len(page) for page in expected) > 4
    assert [sk for page in answered for sk in page] == [sk for page in expected for sk in page]
    assert [len(page) for page in answered if page] == [len(page) for page in expected if page]


# Each: an update (expression, names, values) and an optional condition. Run twice over items in different
# states, so a memoized AST that a validation had changed would show in the second pass's answers.
UPDATES: list[dict[str, Any]] = [
    {"UpdateExpression": "SET #s = :new, pulledAt = if_not_exists(pulledAt, :at) ADD hashes :h REMOVE g",
     "ConditionExpression": "#s IN (:queued, :pulled)", "ExpressionAttributeNames": {"#s": "status"},
     "ExpressionAttributeValues": {":new": {"S": "PULLED"}, ":at": {"S": "t1"}, ":queued": {"S": "QUEUED"},
                                   ":pulled": {"S": "PULLED"}, ":h": {"SS": ["h1"]}}},
    {"UpdateExpression": "SET #s = :new, outcome = :o, pulledAt = if_not_exists(pulledAt, :at)",
     "ConditionExpression": "#s IN (:queued, :pulled) AND contains(hashes, :h)",
     "ExpressionAttributeNames": {"#s": "status"},
     "ExpressionAttributeValues": {":new": {"S": "DONE"}, ":at": {"S": "t2"}, ":queued": {"S": "QUEUED"},
                                   ":pulled": {"S": "PULLED"}, ":h": {"S": "h1"},
                                   ":o": {"M": {"price": {"N": "1.5"}, "ids": {"L": [{"S": "x"}]}}}},
     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
    {"UpdateExpression": "SET n = if_not_exists(n, :zero) + :one, l = list_append(if_not_exists(l, :empty), :l)",
     "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}, ":empty": {"L": []},
                                   ":l": {"L": [{"N": "7"}]}}, "ReturnValues": "ALL_NEW"},
    {"UpdateExpression": "SET outcome.price = :p, n = n - :one DELETE hashes :h",
     "ExpressionAttributeValues": {":p": {"N": "2"}, ":one": {"N": "1"}, ":h": {"SS": ["h1"]}},
     "ReturnValues": "UPDATED_OLD"},
    {"UpdateExpression": "REMOVE l[0], outcome.ids SET z = :z", "ExpressionAttributeValues": {":z": {"BOOL": True}},
     "ReturnValues": "UPDATED_NEW"},
    {"UpdateExpression": "SET sk = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},  # a key: refused
    {"UpdateExpression": "SET a = :v, a = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},  # overlapping
    {"UpdateExpression": "SET a = :missing", "ExpressionAttributeValues": {":v": {"S": "x"}}},  # unknown value
    {"UpdateExpression": "SET a = = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},  # a syntax error
    {"UpdateExpression": "ADD n :s", "ExpressionAttributeValues": {":s": {"S": "x"}}},  # a type mismatch
    {"UpdateExpression": "SET x = nope.deeper", "ReturnValues": "ALL_NEW"},  # a path that is not there
]  # fmt: skip


def _update_answers() -> list[Any]:
    client = make_table("u")
    client.put_item(TableName="u", Item={**key("a", "1"), "status": {"S": "QUEUED"}, "g": {"S": "w"}})
    client.put_item(TableName="u", Item={**key("a", "2"), "status": {"S": "DONE"}})
    answers: list[Any] = []
    for item_key in (key("a", "1"), key("a", "2"), key("a", "3"), key("a", "1")):
        for update in UPDATES:
            try:
                answer = client.update_item(TableName="u", Key=item_key, **update)
                answers.append({k: v for k, v in answer.items() if k != "ResponseMetadata"})
            except ClientError as error:
                answers.append((error.response["Error"], error.response.get("Item")))
        answers.append(client.get_item(TableName="u", Key=item_key).get("Item"))
    return answers


def test_memoized_update_expressions_answer_as_moto_alone_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.parsing.tokens import ExpressionTokenizer

    from quantlink_local.moto_server import patch_dynamodb_expressions

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        expected = _update_answers()
    tokenized: list[str] = []
    make_list = ExpressionTokenizer.make_list
    monkeypatch.setattr(ExpressionTokenizer, "make_list", lambda text: tokenized.append(text) or make_list(text))
    undo = patch_dynamodb_expressions()
    try:
        with mock_aws():
            assert _update_answers() == expected
    finally:
        undo()
    assert any(isinstance(answer, tuple) for answer in expected)  # the refusals are among the answers
    assert any(isinstance(answer, dict) and answer.get("Attributes") for answer in expected)
    # Each valid expression was tokenized once for its 4 items x 2 parses; the syntax error, refused at its
    # first parse, once per item (a miss is not kept).
    assert len(tokenized) == len(UPDATES) - 1 + 4


def _item_answers() -> list[str]:
    """The response bodies moto writes for items of every attribute type, nested, read back four ways."""
    from moto.core.serialize import BaseJSONSerializer

    bodies: list[str] = []
    serialize_body = BaseJSONSerializer._serialize_body

    def kept(self: Any, body: Any) -> str:
        bodies.append(serialize_body(self, body))
        return bodies[-1]

    client = make_table("v")
    every = {"s": {"S": "text ✓"}, "empty": {"S": ""}, "n": {"N": "-1.50"}, "ss": {"SS": ["a", "b"]},
             "ns": {"NS": ["1", "2.5"]}, "b": {"B": b"\x00\xffbytes"}, "bs": {"BS": [b"x", b"y"]},
             "t": {"BOOL": True}, "f": {"BOOL": False}, "null": {"NULL": True}, "m": {"M": {}},
             "l": {"L": []}}  # fmt: skip
    nested = {"M": {**every, "deeper": {"L": [{"M": every}, {"L": [{"S": "x"}, {"B": b"z"}]}, {"N": "3"}]}}}
    client.put_item(TableName="v", Item={**key("p", "1"), **every, "nested": nested})
    client.put_item(
        TableName="v", Item={**key("p", "2"), "only": {"M": {"plain": {"L": [{"S": "y"}, {"NULL": True}]}}}}
    )
    with unittest.mock.patch.object(BaseJSONSerializer, "_serialize_body", kept):
        client.get_item(TableName="v", Key=key("p", "1"))
        client.query(TableName="v", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
        client.scan(TableName="v")
        client.batch_get_item(RequestItems={"v": {"Keys": [key("p", "1"), key("p", "2")]}})
        client.update_item(TableName="v", Key=key("p", "2"), UpdateExpression="SET more = :m", ReturnValues="ALL_NEW",
                           ExpressionAttributeValues={":m": {"L": [{"N": "1"}, {"SS": ["q"]}]}})  # fmt: skip
        with pytest.raises(ClientError) as refused:
            client.put_item(TableName="v", Item=key("p", "1"), ConditionExpression="attribute_not_exists(pk)",
                            ReturnValuesOnConditionCheckFailure="ALL_OLD")  # fmt: skip
    return [*bodies, repr(refused.value.response.get("Item"))]


def test_items_are_serialized_byte_for_byte_as_moto_alone_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from quantlink_local.moto_server import patch_serializer

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        expected = _item_answers()
    undo = patch_serializer()
    try:
        with mock_aws():
            assert _item_answers() == expected
    finally:
        undo()
    assert len(expected) == 6 and all('"deeper"' in body for body in expected[:3]) and "deeper" in expected[-1]


def test_string_keys_hash_and_compare_as_moto_hashes_and_compares_them() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    values = [{"S": "a"}, {"S": "a"}, {"S": "b"}, {"N": "1"}, {"N": "1.0"}, {"S": "1"}, {"B": "AAE="}]
    original = [(hash(DynamoType(v)), [DynamoType(v) == DynamoType(w) for w in values]) for v in values]
    undo = patch_dynamodb()
    try:
        patched = [(hash(DynamoType(v)), [DynamoType(v) == DynamoType(w) for w in values]) for v in values]
    finally:
        undo()
    assert patched == original
