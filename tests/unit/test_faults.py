"""The fault seam itself: skip / times counts, a plan file shared by processes, and armed AWS calls
answered as each protocol's parser expects (the service is never reached)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from quantlink import faults

NOWHERE = "http://127.0.0.1:9"  # nothing listens: only an armed call can answer


@pytest.fixture(autouse=True)
def _disarmed() -> Iterator[None]:
    yield
    faults.disarm()


def hits(name: str, count: int) -> list[bool]:
    outcomes = []
    for _ in range(count):
        try:
            faults.point(name)
            outcomes.append(False)
        except faults.InjectedFault:
            outcomes.append(True)
    return outcomes


def test_a_point_fires_after_skip_hits_for_times_hits() -> None:
    assert hits(faults.PULL_AFTER_RECEIVE, 2) == [False, False]  # unarmed
    with faults.armed(faults.PULL_AFTER_RECEIVE, skip=2, times=2):
        assert hits(faults.PULL_AFTER_RECEIVE, 6) == [False, False, True, True, False, False]
        assert hits(faults.ACK_AFTER_RECORD, 1) == [False]  # another point
    assert hits(faults.PULL_AFTER_RECEIVE, 1) == [False]
    assert faults.fired()[-2:] == [faults.PULL_AFTER_RECEIVE] * 2


def test_a_plan_file_counts_across_processes_and_a_new_plan_restarts_the_counts(tmp_path: Path) -> None:
    plan = tmp_path / "faults.json"
    faults.write_plan(plan, {faults.ACK_AFTER_DELETE: faults.Fault(skip=1, times=2)})
    script = (
        "from quantlink import faults\n"
        "try:\n    faults.point(faults.ACK_AFTER_DELETE)\n    print('passed')\n"
        "except faults.InjectedFault:\n    print('fired')\n"
    )

    def one_process() -> str:
        env = {"PATH": "", faults.ENV: str(plan), "PYTHONPATH": ":".join(sys.path)}
        return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True).stdout.strip()

    assert [one_process() for _ in range(4)] == ["passed", "fired", "fired", "passed"]
    assert faults.read_fired(plan) == [faults.ACK_AFTER_DELETE] * 2
    faults.write_plan(plan, {faults.ACK_AFTER_DELETE: faults.Fault(times=1)})
    assert [one_process() for _ in range(2)] == ["fired", "passed"]
    faults.write_plan(plan, {})
    assert one_process() == "passed"
    assert len(faults.read_fired(plan)) == 3


CALLS = {
    "dynamodb": ("Query", lambda c: c.query(TableName="t", KeyConditionExpression="pk = :p"), faults.THROTTLED, 400),
    "sqs": ("SendMessage", lambda c: c.send_message(QueueUrl=f"{NOWHERE}/q", MessageBody="x"), faults.UNAVAILABLE, 503),
    "ses": (  # the query protocol: an XML error
        "SendEmail",
        lambda c: c.send_email(Source="a@b.c", Destination={}, Message={"Subject": {"Data": "s"}, "Body": {}}),
        faults.INTERNAL,
        500,
    ),
    "apigatewaymanagementapi": (  # rest-json
        "PostToConnection",
        lambda c: c.post_to_connection(ConnectionId="c", Data=b"x"),
        faults.UNAVAILABLE,
        503,
    ),
}


@pytest.mark.parametrize("service", list(CALLS))
def test_an_armed_aws_call_answers_the_chosen_error_without_reaching_the_service(service: str) -> None:
    operation, call, error, status = CALLS[service]
    session = faults.instrument(boto3.session.Session(region_name="us-east-1"))
    client = session.client(
        service,
        endpoint_url=NOWHERE,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, parameter_validation=False),
    )
    with faults.armed(faults.aws_call(service, operation), error=error), pytest.raises(ClientError) as raised:
        call(client)
    assert raised.value.response["Error"]["Code"] == error
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_every_botocore_attempt_meets_the_fault_and_the_last_ones_error_reaches_the_caller() -> None:
    session = faults.instrument(boto3.session.Session(region_name="us-east-1"))
    client = session.client(
        "sqs",
        endpoint_url=NOWHERE,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        # botocore's max_attempts counts the retries: 1 + 2 attempts
        config=Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=0.2),
    )
    name = faults.aws_call("sqs", "GetQueueUrl")
    with faults.armed(name, times=3), pytest.raises(ClientError) as raised:
        client.get_queue_url(QueueName="q")
    assert raised.value.response["Error"]["Code"] == faults.UNAVAILABLE
    assert faults.fired()[-3:] == [name] * 3
