"""The local stack's snapshot file: a restored moto answers as the saved one did (items, queued and
in-flight messages with their visibility deadlines, logins and the tokens issued before, objects,
sent emails), and a file that is not whole is refused with a sentence, never half-loaded."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
from moto import mock_aws
from moto.core.base_backend import BackendDict

from quantlink_local import changes, outbox, persistence

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    undo = outbox.patch_ses()
    try:
        with mock_aws():
            yield
    finally:
        undo()


def restart(path: Path, segments: dict[str, str] | None = None, dirty: set[tuple[str, int]] | None = None) -> None:
    """Save as the snapshotter does, then what a new moto server does: start empty, load the file."""
    persistence.save(path, persistence.capture(), segments or {}, dirty, time.time_ns())
    BackendDict.reset()
    assert not boto3.client("dynamodb").list_tables()["TableNames"], "the reset did not empty moto"
    assert persistence.load(path) is not None


def touched_by(target: str, body: bytes) -> persistence.Touched | None:
    """What the next snapshot rewrites after this write: the buckets of its journal records."""
    written = persistence.written_items(target, body)
    assert written is not None
    return changes.touched_by_records(changes.item_records(written), persistence.bucket_of_key)


def make_table(name: str = "t") -> Any:
    """A pay-per-request table keyed by string pk and sk (the shape of the stack's own)."""
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )  # fmt: skip
    return dynamodb


def test_a_restored_moto_answers_as_the_saved_one(aws: None, tmp_path: Path) -> None:
    # Given a table with an item, a FIFO queue with one queued and one in-flight message, a user, an
    # object and a sent email
    dynamodb = make_table()
    item = {"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1.5"}, "m": {"M": {"x": {"BOOL": True}}}}
    dynamodb.put_item(TableName="t", Item=item)
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="q.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=url, MessageBody="in-flight", MessageGroupId="g1")
    sqs.send_message(QueueUrl=url, MessageBody="queued", MessageGroupId="g2")
    (received,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)["Messages"]
    assert received["Body"] == "in-flight"
    cognito = boto3.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c", ExplicitAuthFlows=["USER_PASSWORD_AUTH"])
    client_id = client["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool, Username="o@example.com", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username="o@example.com", Password="Pw-12345678a", Permanent=True)
    login = {"USERNAME": "o@example.com", "PASSWORD": "Pw-12345678a"}
    id_token = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=login)[
        "AuthenticationResult"
    ]["IdToken"]
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="kept-bucket")
    s3.put_object(Bucket="kept-bucket", Key="k", Body=b"payload")
    ses = boto3.client("ses")
    ses.verify_email_identity(EmailAddress="noreply@example.com")
    ses.send_email(
        Source="noreply@example.com", Destination={"ToAddresses": ["friend@example.com"]},
        Message={"Subject": {"Data": "Join"}, "Body": {"Text": {"Data": "t"}, "Html": {"Data": "<a>h</a>"}}},
    )  # fmt: skip

    # When the state is saved, moto starts empty and loads it
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=received["ReceiptHandle"], VisibilityTimeout=8)
    deadline = time.monotonic() + 8
    restart(tmp_path / "aws-state.bin")

    # Then everything is there, and the in-flight message comes back only after its deadline, once
    assert dynamodb.get_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "1"}})["Item"] == item
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert time.monotonic() < deadline, "the machine is too slow for this test's timing"
    assert [m["Body"] for m in first] == ["queued"]
    time.sleep(max(0.0, deadline - time.monotonic()) + 0.3)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in again] == ["in-flight"]
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []
    assert cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=login)
    # the pool's signing key came back: the token issued before the restart still verifies
    claims = jwt.decode(id_token, _pool_public_key(pool), algorithms=["RS256"], audience=client_id)
    assert claims["token_use"] == "id"
    assert s3.get_object(Bucket="kept-bucket", Key="k")["Body"].read() == b"payload"
    (sent,) = outbox.sent_emails()
    assert (sent["to"], sent["subject"], sent["text"], sent["html"]) == (
        ["friend@example.com"],
        "Join",
        "t",
        "<a>h</a>",
    )
    assert sent["sentAt"]


def _pool_public_key(pool_id: str) -> Any:
    from moto.cognitoidp.models import cognitoidp_backends

    backend = cognitoidp_backends["123456789012"][REGION]
    public = backend.user_pools[pool_id].json_web_key.as_dict(private=False)
    return jwt.PyJWK(public).key


@pytest.mark.parametrize(
    ("damage", "sentence"),
    [
        (lambda data: data[: len(data) // 2], "truncated or damaged"),
        (lambda data: data[:-1] + bytes([data[-1] ^ 1]), "checksum does not match"),
        (lambda data: b"{}" + data, "not a QuantLink local state file"),
        (lambda data: data.replace(b'"format": 1', b'"format": 99'), "state format 99"),
        (lambda data: data.replace(b'"moto": "', b'"moto": "0.'), "cannot read it"),
        (lambda data: persistence.MAGIC + b"not json\n", "header cannot be read"),
    ],
)
def test_a_file_that_is_not_whole_is_refused_with_a_sentence(
    aws: None, tmp_path: Path, damage: Any, sentence: str
) -> None:
    boto3.client("sqs").create_queue(QueueName="q")
    path = tmp_path / "aws-state.bin"
    path.write_bytes(damage(persistence.encode(persistence.capture())))
    before = path.read_bytes()
    with pytest.raises(persistence.StateError, match=sentence):
        persistence.load(path)
    assert path.read_bytes() == before  # kept for inspection


def test_a_new_data_directory_has_no_state_yet(tmp_path: Path) -> None:
    assert persistence.load(tmp_path / "aws-state.bin") is None


def test_reads_do_not_mark_the_state_dirty_and_writes_do() -> None:
    assert persistence.is_read_only("GET", None)
    assert persistence.is_read_only("POST", "DynamoDB_20120810.Query")
    assert persistence.is_read_only("POST", "AmazonSQS.GetQueueUrl")
    assert not persistence.is_read_only("POST", "DynamoDB_20120810.TransactWriteItems")
    assert not persistence.is_read_only("POST", "AmazonSQS.SendMessage")
    assert not persistence.is_read_only("POST", "AWSCognitoIdentityProviderService.InitiateAuth")
    assert not persistence.is_read_only("POST", None)  # query protocol (SES): a write unless known


def test_a_snapshot_is_written_whole_then_renamed(tmp_path: Path) -> None:
    path = tmp_path / "aws-state.bin"
    persistence.write(path, b"old")
    persistence.write(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["aws-state.bin"]  # no temporary left behind
    assert path.stat().st_mode & 0o077 == 0  # it holds logins and tokens


def test_a_snapshot_rewrites_only_the_buckets_that_changed(aws: None, tmp_path: Path) -> None:
    # Given a table with items in many partitions, saved whole
    dynamodb = make_table()
    for n in range(100):
        dynamodb.put_item(TableName="t", Item={"pk": {"S": f"STRATEGY#{n}"}, "sk": {"S": "#META"}, "v": {"N": "1"}})
    path = tmp_path / "aws-state.bin"
    segments = persistence.save(path, persistence.capture(), {}, None, 1)
    assert len(segments) == len({persistence.bucket_of("S", f"STRATEGY#{n}", "S", "#META") for n in range(100)})
    # When one partition changes and the snapshot is told which bucket that is
    body = b'{"TableName": "t", "Key": {"pk": {"S": "STRATEGY#7"}, "sk": {"S": "#META"}}}'
    touched = touched_by("DynamoDB_20120810.UpdateItem", body)
    assert touched == {("dynamodb", "t", persistence.bucket_of("S", "STRATEGY#7", "S", "#META"))}
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "STRATEGY#7"}, "sk": {"S": "#META"}, "v": {"N": "2"}})
    after = persistence.save(path, persistence.capture(), segments, touched, 2)
    # Then one bucket file is new, the others are the same files, and a restart sees every item
    assert [k for k in after if after[k] != segments[k]] == [f"123456789012|us-east-1|t|{next(iter(touched))[2]}"]
    assert sorted(p.name for p in persistence.segments_dir(path).iterdir()) == sorted(after.values())
    BackendDict.reset()
    assert persistence.load(path) == after
    items = dynamodb.scan(TableName="t")["Items"]
    assert len(items) == 100
    assert next(i for i in items if i["pk"]["S"] == "STRATEGY#7")["v"] == {"N": "2"}


def test_one_partition_is_spread_over_the_buckets_and_a_change_rewrites_one(aws: None, tmp_path: Path) -> None:
    # Given one strategy's partition of 300 items (its signals and deliveries live in one partition)
    dynamodb = make_table()
    for n in range(300):
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "STRATEGY#1"}, "sk": {"S": f"SIGNAL#{n:04d}"}})
    path = tmp_path / "aws-state.bin"
    segments = persistence.save(path, persistence.capture(), {}, None, 1)
    sizes = sorted(p.stat().st_size for p in persistence.segments_dir(path).iterdir())
    assert sizes[-1] < 20 * sizes[len(sizes) // 2]  # no bucket holds the partition
    # When one of its items changes
    body = b'{"TableName": "t", "Item": {"pk": {"S": "STRATEGY#1"}, "sk": {"S": "SIGNAL#0042"}, "v": {"N": "2"}}}'
    touched = touched_by("DynamoDB_20120810.PutItem", body)
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "STRATEGY#1"}, "sk": {"S": "SIGNAL#0042"}, "v": {"N": "2"}})
    after = persistence.save(path, persistence.capture(), segments, touched, 2)
    # Then one bucket file is rewritten, and a restart has the whole partition, in order, changed
    assert len([k for k in after if after[k] != segments[k]]) == 1
    BackendDict.reset()
    persistence.load(path)
    items = dynamodb.query(TableName="t", KeyConditionExpression="pk = :p",
                           ExpressionAttributeValues={":p": {"S": "STRATEGY#1"}})["Items"]  # fmt: skip
    assert [i["sk"]["S"] for i in items] == [f"SIGNAL#{n:04d}" for n in range(300)]
    assert next(i for i in items if i["sk"]["S"] == "SIGNAL#0042")["v"] == {"N": "2"}


def test_a_missing_bucket_file_is_refused(aws: None, tmp_path: Path) -> None:
    make_table().put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "1"}})
    path = tmp_path / "aws-state.bin"
    segments = persistence.save(path, persistence.capture(), {}, None, 1)
    bucket = persistence.bucket_of("S", "a", "S", "1")
    (persistence.segments_dir(path) / segments[f"123456789012|us-east-1|t|{bucket}"]).unlink()
    with pytest.raises(persistence.StateError, match="is missing"):
        persistence.load(path)


@pytest.mark.parametrize(
    ("operation", "body", "expected"),
    [
        ("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "x": {"N": "1"}}}, [("t", "a")]),
        ("DeleteItem", {"TableName": "t", "Key": {"pk": {"S": "b"}}}, [("t", "b")]),
        ("BatchWriteItem", {"RequestItems": {"t": [{"PutRequest": {"Item": {"pk": {"S": "a"}}}},
                                                   {"DeleteRequest": {"Key": {"pk": {"S": "c"}}}}]}},
         [("t", "a"), ("t", "c")]),
        ("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}}}},
                                                  {"Update": {"TableName": "t", "Key": {"pk": {"S": "d"}}}}]},
         [("t", "a"), ("t", "d")]),
        ("CreateTable", {"TableName": "u"}, None),  # a table operation: journaled as the table
        ("ExecuteStatement", {"Statement": "DELETE FROM t"}, None),  # PartiQL: cannot be told
        ("PutItem", "not json", None),
    ],
)  # fmt: skip
def test_the_items_a_write_names(operation: str, body: Any, expected: list[tuple[str, str]] | None) -> None:
    raw = (json.dumps(body) if not isinstance(body, str) else body).encode()
    written = persistence.written_items(f"DynamoDB_20120810.{operation}", raw)
    if expected is None:
        assert written is None
    else:
        assert [(table, key["pk"]["S"]) for table, key in written or []] == expected
    assert persistence.written_items(f"AmazonSQS.{operation}", raw) == []  # not DynamoDB's


def test_what_journal_records_make_the_next_snapshot_rewrite() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    key = DynamoType({"S": "a"})
    item = ("item", "1", "r", "t", key, None, None)
    assert changes.touched_by_records([item], persistence.bucket_of_key) == {
        ("dynamodb", "t", persistence.bucket_of("S", "a"))
    }
    queue = ("messages", "1", "r", "q.fifo", [], [], [], [], None)
    assert changes.touched_by_records([queue], persistence.bucket_of_key) == {("sqs", "q.fifo")}
    assert changes.touched_by_records([("service", "cognito-idp", {})], persistence.bucket_of_key) == set()
    binary = ("item", "1", "r", "t", DynamoType({"B": "AAE="}), None, None)  # a key kind no bucket is known for
    assert changes.touched_by_records([binary], persistence.bucket_of_key) is None
    assert changes.touched_by_records([("table", "1", "r", "t", None)], persistence.bucket_of_key) is None


def test_a_snapshot_rewrites_only_the_queues_that_changed(aws: None, tmp_path: Path) -> None:
    sqs = boto3.client("sqs")
    urls = [sqs.create_queue(QueueName=f"q{i}")["QueueUrl"] for i in range(3)]
    sqs.send_message(QueueUrl=urls[0], MessageBody="first")
    path = tmp_path / "aws-state.bin"
    segments = persistence.save(path, persistence.capture(), {}, None, 1)
    sqs.send_message(QueueUrl=urls[1], MessageBody="second")
    after = persistence.save(path, persistence.capture(), segments, {("sqs", "q1")}, 2)
    assert [k for k in after if after[k] != segments.get(k)] == ["sqs|123456789012|us-east-1|q1"]
    BackendDict.reset()
    persistence.load(path)
    bodies = [[m["Body"] for m in sqs.receive_message(QueueUrl=u).get("Messages", [])] for u in urls]
    assert bodies == [["first"], ["second"], []]
