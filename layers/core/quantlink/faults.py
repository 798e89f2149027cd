"""The one fault-injection seam: named points in the domain code where a test can make the process
"die" (raise) to prove what recovers it, and AWS calls it can make fail as a throttled or unavailable
service would. Nothing is armed in production, where `point` costs two falsy checks and the AWS hook
one more; no other code branches on tests.

Arming:
    in this process      `armed(name, times=..., skip=...)` (integration tests on in-process moto);
    in another process   the file named by $QUANTLINK_FAULTS (the local stack, `quantlink schedule run`):
                         `write_plan(path, {name: Fault(...)})`. The processes armed with one plan share
                         its counts (a file lock), and append every firing to `<path>.fired` (`read_fired`),
                         so a test can tell that the fault it armed did happen.
A fault fires on the hits after the first `skip`, `times` times ("the Nth call": skip=N-1).

Points:
    AFTER_RECORD          webhook: the transaction (dedup + RECEIVED + its delivery records) is done,
                          nothing sent yet
    FANOUT_SEND           webhook / re-drive: before each terminal's SendMessage (skip=k: crash after k of n)
    PUSH_AFTER_POST       fan-out: the signal was posted to the terminal's WebSocket, not yet marked pushed
    PUSH_AFTER_CONNECT    $connect: the connection is recorded, the upgrade not yet answered
    PULL_AFTER_RECEIVE    pull: the message is received from the queue, not yet written PULLED
    PULL_AFTER_MARK       pull: written PULLED, not yet answered
    ACK_AFTER_RECORD      ack: the outcome is recorded, the message not yet deleted
    ACK_AFTER_DELETE      ack: the message is deleted, not yet answered
    SWEEP_AFTER_REDRIVE   sweep: one stuck signal re-driven, the step dies before the next
    aws_call(service, op) any AWS call, e.g. aws_call("sqs", "SendMessage"): answered with `error`
                          (THROTTLED, UNAVAILABLE, ...) without reaching the service. Every attempt
                          is a hit: quantlink.aws retries 3 times, so times=1 is absorbed by botocore
                          and times=4 reaches our code.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

AFTER_RECORD = "relay.after_record"
FANOUT_SEND = "relay.fanout_send"
PUSH_AFTER_POST = "relay.push_after_post"
PUSH_AFTER_CONNECT = "push.after_connect"
PULL_AFTER_RECEIVE = "pull.after_receive"
PULL_AFTER_MARK = "pull.after_mark"
ACK_AFTER_RECORD = "ack.after_record"
ACK_AFTER_DELETE = "ack.after_delete"
SWEEP_AFTER_REDRIVE = "sweep.after_redrive"

ENV = "QUANTLINK_FAULTS"

# AWS error codes an armed call answers with, and their HTTP status.
THROTTLED = "ProvisionedThroughputExceededException"  # DynamoDB
SQS_THROTTLED = "ThrottlingException"
UNAVAILABLE = "ServiceUnavailable"
INTERNAL = "InternalServerError"
_STATUS = {THROTTLED: 400, SQS_THROTTLED: 400, UNAVAILABLE: 503, INTERNAL: 500}


def aws_call(service: str, operation: str) -> str:
    """The point of an AWS call: botocore's service id (hyphenized, lower case) and operation name."""
    return f"aws.{service}.{operation}"


@dataclass(frozen=True)
class Fault:
    times: int = 1
    skip: int = 0
    error: str = UNAVAILABLE  # for aws_call points


class InjectedFault(RuntimeError):
    """What an armed point raises: an unplanned crash, as the caller would see one."""


_lock = threading.Lock()
_armed: dict[str, list[int]] = {}  # in this process: name -> [skip left, times left]
_errors: dict[str, str] = {}
_fired: list[str] = []
_source: Path | None = Path(os.environ[ENV]) if os.environ.get(ENV) else None
_plan: tuple[tuple[int, int, int] | None, dict[str, Any]] = (None, {})  # the plan file as last read


def point(name: str) -> None:
    if _fires(name):
        raise InjectedFault(f"injected fault at {name}")


def _fires(name: str) -> bool:
    if not _armed and _source is None:
        return False
    if _source is not None:
        return _fires_from_plan(_source, name)
    with _lock:
        left = _armed.get(name)
        if left is None or not _count(left):
            return False
        _fired.append(name)
    return True


def _count(left: list[int]) -> bool:
    """One hit: skip it, or fire (and use up one time), or nothing left."""
    if left[1] <= 0:
        return False
    if left[0] > 0:
        left[0] -= 1
        return False
    left[1] -= 1
    return True


def _fires_from_plan(source: Path, name: str) -> bool:
    """The plan's counts are shared by every process armed with it (the stack, a by-hand sweep): kept
    in `<plan>.state` under a file lock, restarted when the plan is replaced."""
    if name not in _read_plan(source).get("points", {}):
        return False
    import fcntl

    with _lock, source.with_name(source.name + ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        plan = _read_plan(source)
        if name not in plan.get("points", {}):
            return False
        state_file = source.with_name(source.name + ".state")
        try:
            state = json.loads(state_file.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            state = {}
        if state.get("id") != plan["id"]:
            state = {"id": plan["id"], "left": {n: [f["skip"], f["times"]] for n, f in plan["points"].items()}}
        fires = _count(state["left"][name])
        state_file.write_text(json.dumps(state), encoding="utf-8")
        if fires:
            _fired.append(name)
            with source.with_name(source.name + ".fired").open("a", encoding="utf-8") as log:
                log.write(json.dumps({"point": name, "pid": os.getpid()}) + "\n")
        return fires


def _read_plan(source: Path) -> dict[str, Any]:
    global _plan
    try:
        stat = source.stat()
        seen: tuple[int, int, int] | None = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    except FileNotFoundError:
        seen = None
    if seen != _plan[0]:
        _plan = (seen, json.loads(source.read_text(encoding="utf-8")) if seen is not None else {})
    return _plan[1]


def _error_of(name: str) -> str:
    if _source is not None:
        return str(_read_plan(_source).get("points", {}).get(name, {}).get("error", UNAVAILABLE))
    return _errors.get(name, UNAVAILABLE)


def arm(name: str, *, times: int = 1, skip: int = 0, error: str = UNAVAILABLE) -> None:
    with _lock:
        _armed[name] = [skip, times]
        _errors[name] = error


def disarm() -> None:
    with _lock:
        _armed.clear()
        _errors.clear()


def fired() -> list[str]:
    """The points that fired in this process, in order."""
    with _lock:
        return list(_fired)


@contextmanager
def armed(name: str, *, times: int = 1, skip: int = 0, error: str = UNAVAILABLE) -> Iterator[None]:
    arm(name, times=times, skip=skip, error=error)
    try:
        yield
    finally:
        disarm()


# ---- arming other processes ------------------------------------------------------------------------


def write_plan(path: Path, plan: Mapping[str, Fault]) -> None:
    """Arm the processes started with $QUANTLINK_FAULTS=path (replaces the plan, counts restart; {} disarms)."""
    fresh = path.with_name(path.name + ".new")
    points = {name: asdict(fault) for name, fault in plan.items()}
    fresh.write_text(json.dumps({"id": uuid.uuid4().hex, "points": points}), encoding="utf-8")
    fresh.replace(path)  # a new inode: every reader sees the change


def read_fired(path: Path) -> list[str]:
    """Every firing of every plan written to `path`, in order, across the processes armed with it."""
    log = path.with_name(path.name + ".fired")
    if not log.exists():
        return []
    return [json.loads(line)["point"] for line in log.read_text(encoding="utf-8").splitlines() if line]


# ---- AWS calls -------------------------------------------------------------------------------------


def instrument(session: Any) -> Any:
    """Hook a boto3 session's clients (quantlink.aws) so armed aws_call points answer with an error."""
    session.events.register("before-send", _before_send)
    return session


class _Body:
    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._content


def _before_send(request: Any, event_name: str = "", **_: Any) -> Any:
    if not _armed and _source is None:
        return None
    name = "aws." + event_name.partition(".")[2]  # before-send.<service>.<Operation>
    if not _fires(name):
        return None
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    code = _error_of(name)
    message = f"injected fault at {name}"
    headers = {"x-amzn-RequestId": "injected-fault", "x-amzn-ErrorType": code}
    body = request.body.encode() if isinstance(request.body, str) else request.body or b""
    if body.startswith(b"Action="):  # query protocol (SES): an XML error
        content = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>injected-fault</RequestId></ErrorResponse>"
        ).encode()
        headers["Content-Type"] = "text/xml"
    else:  # json (DynamoDB, SQS) and rest-json (API Gateway management)
        content = json.dumps({"__type": code, "message": message}).encode()
        headers["Content-Type"] = "application/x-amz-json-1.0"
    return AWSResponse(request.url, _STATUS.get(code, 503), HTTPHeaders.from_dict(headers), _Body(content))
