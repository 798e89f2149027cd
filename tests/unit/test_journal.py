"""The journal: replaying it on top of the last snapshot gives backends that answer as the live
ones did, whatever sequence of DynamoDB and FIFO-queue writes came before; a frame cut short at
the end (the process died while appending it: it was never answered) is dropped, and any other
damage is refused with a sentence."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.core.base_backend import BackendDict

from quantlink_local import journal, moto_server, outbox, persistence
from tests.unit.test_persistence import make_table

REGION = "us-east-1"
QUEUE = "q.fifo"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """moto with the server's patches, its requests journaled as moto_server.LocalApp does."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    undo = [outbox.patch_ses(), moto_server.patch_dynamodb(), moto_server.patch_sqs(), moto_server.patch_locking()]
    try:
        with mock_aws():
            yield
    finally:
        for step in reversed(undo):
            step()


def start_journal(path: Path) -> persistence.Snapshotter:
    """A snapshot of the state as it is, then a journal after it (the snapshot thread is not started:
    only the journal keeps the changes)."""
    persistence.save(path, persistence.capture(), {}, None, 1, journal=1)
    snapshotter = persistence.Snapshotter(path, threading.RLock(), journal=1)
    moto_server._SNAPSHOTTER = snapshotter
    return snapshotter


def stop_journal(snapshotter: persistence.Snapshotter) -> None:
    moto_server._SNAPSHOTTER = None
    snapshotter.journal.close()


def dynamodb_call(client: Any, operation: str, **request: Any) -> Any:
    """A DynamoDB write, journaled as LocalApp journals it (the request's JSON body is these arguments)."""
    try:
        return getattr(client, persistence_name(operation))(**request)
    except client.exceptions.ClientError:
        return None
    finally:
        body = json.dumps(request).encode()
        with moto_server._LOCK:
            assert moto_server._SNAPSHOTTER is not None
            moto_server._SNAPSHOTTER.record(moto_server._records_of(f"DynamoDB_20120810.{operation}", body, {}))


def persistence_name(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


def make_table_and_queue() -> tuple[Any, Any, str]:
    dynamodb, sqs = make_table(), boto3.client("sqs")
    url = sqs.create_queue(QueueName=QUEUE, Attributes={"FifoQueue": "true", "VisibilityTimeout": "300"})["QueueUrl"]
    return dynamodb, sqs, url


def key(n: int) -> dict[str, Any]:
    return {"pk": {"S": f"P#{n % 3}"}, "sk": {"S": f"S#{n}"}}


def write_step(step: tuple[Any, ...], dynamodb: Any, sqs: Any, url: str, handles: list[str]) -> None:
    kind, n, m = step
    if kind == "put":
        dynamodb_call(dynamodb, "PutItem", TableName="t", Item={**key(n), "v": {"N": str(m)}})
    elif kind == "update":
        dynamodb_call(dynamodb, "UpdateItem", TableName="t", Key=key(n), UpdateExpression="ADD v :one",
                      ExpressionAttributeValues={":one": {"N": "1"}})  # fmt: skip
    elif kind == "delete":
        dynamodb_call(dynamodb, "DeleteItem", TableName="t", Key=key(n))
    elif kind == "transact":  # the second condition fails half the time: then neither item changes
        dynamodb_call(dynamodb, "TransactWriteItems", TransactItems=[
            {"Put": {"TableName": "t", "Item": {**key(n), "v": {"N": "7"}}}},
            {"Put": {"TableName": "t", "Item": {**key(m + 10), "v": {"N": "8"}},
                     "ConditionExpression": "attribute_not_exists(pk)" if m % 2 else "attribute_exists(pk)"}},
        ])  # fmt: skip
    elif kind == "send":
        sqs.send_message(QueueUrl=url, MessageBody=f"body {n}", MessageGroupId=f"g{m % 2}",
                         MessageDeduplicationId=f"d{n}")  # fmt: skip
    elif kind == "receive":
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1 + m % 3, VisibilityTimeout=0 if n % 2 else 300)
        handles += [message["ReceiptHandle"] for message in answer.get("Messages", [])]
    elif handles and kind == "delete-message":
        with contextlib.suppress(sqs.exceptions.ReceiptHandleIsInvalid):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=handles[n % len(handles)])
    elif handles and kind == "visibility":
        with contextlib.suppress(sqs.exceptions.ClientError):
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handles[n % len(handles)],
                                          VisibilityTimeout=0 if m % 2 else 300)  # fmt: skip


def answers(dynamodb: Any, sqs: Any, url: str, handles: list[str], sent: int) -> dict[str, Any]:
    """What the backends answer, read the same way from the live and the restored ones (the reads
    change the queue: each side is read once, from the same state)."""
    items = sorted(dynamodb.scan(TableName="t")["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    first = [m["MessageId"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]
    visibility = []
    for handle in handles[1::2]:  # old, current and retired receipt handles answer as before
        try:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
            visibility.append("ok")
        except sqs.exceptions.ClientError as error:
            visibility.append(error.response["Error"]["Code"])
    for handle in handles[::2]:
        try:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
            visibility.append("deleted")
        except sqs.exceptions.ClientError as error:
            visibility.append(error.response["Error"]["Code"])
    received = []
    for _ in range(sent + 1):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        if not got:
            break
        for message in got:
            attributes = message["Attributes"]
            received.append((message["MessageId"], message["Body"], attributes["ApproximateReceiveCount"],
                             attributes["MessageGroupId"], attributes["MessageDeduplicationId"],
                             attributes["SequenceNumber"]))  # fmt: skip
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return {"items": items, "depth": depth, "first": first, "visibility": visibility, "received": received}


STEP = st.tuples(
    st.sampled_from(["put", "update", "delete", "transact", "send", "receive", "delete-message", "visibility"]),
    st.integers(0, 12),
    st.integers(0, 5),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, max_size=30))
@example(steps=[("send", 1, 0), ("send", 2, 0), ("receive", 0, 0)])  # the in-flight message holds its FIFO group
@example(steps=[("send", 1, 0), ("receive", 1, 0), ("delete-message", 0, 0)])  # deleting again is no error
@example(steps=[("send", 1, 0), ("send", 1, 0), ("receive", 1, 2)])  # a duplicate is not queued
@example(steps=[("put", 1, 0), ("transact", 1, 0), ("transact", 2, 1), ("delete", 1, 0)])
def test_replaying_the_journal_answers_as_the_live_backends(
    server: None, tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[Any, ...]]
) -> None:
    # Given a table and a FIFO queue, snapshotted, then a random sequence of writes, journaled
    BackendDict.reset()
    path = tmp_path_factory.mktemp("state") / "aws-state.bin"
    dynamodb, sqs, url = make_table_and_queue()
    snapshotter = start_journal(path)
    handles: list[str] = []
    try:
        for step in steps:
            write_step(step, dynamodb, sqs, url, handles)
    finally:
        stop_journal(snapshotter)
    live = answers(dynamodb, sqs, url, handles, len(steps))
    # When moto starts empty, loads the snapshot and replays the journal
    BackendDict.reset()
    restored = persistence.restore(path)
    # Then it answers as the live one did
    assert answers(dynamodb, sqs, url, handles, len(steps)) == live
    assert restored.journal == 2  # the next server starts a journal of its own


def test_a_frame_cut_short_at_the_end_is_dropped_and_the_rest_replayed(server: None, tmp_path: Path) -> None:
    # Given two journaled puts, the file then cut inside the second one's frame (a crash mid-append)
    path = tmp_path / "aws-state.bin"
    dynamodb, _, _ = make_table_and_queue()
    snapshotter = start_journal(path)
    dynamodb_call(dynamodb, "PutItem", TableName="t", Item=key(1))
    whole = journal.journal_path(path, 1).stat().st_size
    dynamodb_call(dynamodb, "PutItem", TableName="t", Item=key(2))
    stop_journal(snapshotter)
    log = journal.journal_path(path, 1)
    appended = log.read_bytes()
    # cut inside its payload, inside its frame header, or its end replaced by zeros (a power loss)
    for torn in (appended[:-1], appended[: whole + 3], appended[:-40] + bytes(4096)):
        log.write_bytes(torn)
        # When moto restarts from it
        BackendDict.reset()
        restored = persistence.restore(path)
        # Then the first put is there and the torn one is not, silently
        assert [i["sk"]["S"] for i in dynamodb.scan(TableName="t")["Items"]] == ["S#1"]
        assert restored.frames == 1


def test_a_damaged_frame_before_the_last_is_refused_with_a_sentence(server: None, tmp_path: Path) -> None:
    path = tmp_path / "aws-state.bin"
    dynamodb, _, _ = make_table_and_queue()
    snapshotter = start_journal(path)
    start = journal.journal_path(path, 1).stat().st_size
    dynamodb_call(dynamodb, "PutItem", TableName="t", Item=key(1))
    dynamodb_call(dynamodb, "PutItem", TableName="t", Item=key(2))
    stop_journal(snapshotter)
    log = journal.journal_path(path, 1)
    data = bytearray(log.read_bytes())
    data[start + journal.FRAME.size + 5] ^= 0xFF  # inside the first frame's payload
    log.write_bytes(bytes(data))
    BackendDict.reset()
    with pytest.raises(persistence.StateError, match=r"is damaged: the record at byte \d+ does not match"):
        persistence.restore(path)
    assert log.read_bytes() == bytes(data)  # kept as it was


def test_a_journal_of_another_moto_is_refused(server: None, tmp_path: Path) -> None:
    path = tmp_path / "aws-state.bin"
    make_table_and_queue()
    stop_journal(start_journal(path))
    log = journal.journal_path(path, 1)
    log.write_bytes(log.read_bytes().replace(b'"moto": "', b'"moto": "0.', 1))
    with pytest.raises(persistence.StateError, match=r"was written by moto 0\."):
        persistence.restore(path)


def test_a_snapshot_folds_the_journal_in_and_a_state_of_the_format_before_still_loads(
    server: None, tmp_path: Path
) -> None:
    # Given a state file as the format before the journal wrote it (no "journal" in its header)
    path = tmp_path / "aws-state.bin"
    dynamodb, sqs, url = make_table_and_queue()
    dynamodb.put_item(TableName="t", Item=key(1))
    persistence.write(path, persistence.encode(persistence.capture(), segments={}, buckets=persistence.BUCKETS,
                                               bucketing=persistence.BUCKETING))  # fmt: skip
    BackendDict.reset()
    restored = persistence.restore(path)
    assert [i["sk"]["S"] for i in dynamodb.scan(TableName="t")["Items"]] == ["S#1"]
    # When a server journals a write and stops cleanly
    snapshotter = persistence.Snapshotter(path, threading.RLock(), journal=restored.journal)
    moto_server._SNAPSHOTTER = snapshotter
    try:
        sqs.send_message(QueueUrl=url, MessageBody="kept", MessageGroupId="g", MessageDeduplicationId="d")
        assert snapshotter.journal.records == 1
    finally:
        moto_server._SNAPSHOTTER = None
    snapshotter.snapshot_now()
    # Then the snapshot holds it, the journals before the snapshot are gone, and a restart replays nothing
    assert journal.sequences(path) == [2]
    BackendDict.reset()
    again = persistence.restore(path)
    assert again.records == 0
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url).get("Messages", [])] == ["kept"]


def test_a_receive_that_finds_nothing_journals_nothing(server: None, tmp_path: Path) -> None:
    # Given a journaled server with an empty queue (terminals long-poll theirs all day)
    _, sqs, url = make_table_and_queue()
    snapshotter = start_journal(tmp_path / "aws-state.bin")
    try:
        # When a receive finds nothing, then a send and a receive do change the queue
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        nothing = snapshotter.journal.records
        sqs.send_message(QueueUrl=url, MessageBody="b", MessageGroupId="g", MessageDeduplicationId="d")
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    finally:
        stop_journal(snapshotter)
    # Then only the two changes were journaled
    assert (nothing, snapshotter.journal.records) == (0, 2)
