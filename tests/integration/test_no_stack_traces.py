"""No stack trace in any answer (API.md "Errors"): every function that answers a caller, made to fail
inside by a broken dependency (DynamoDB) or by the fault seam (quantlink.faults), answers the flat
API.md body, 500 INTERNAL_ERROR, with nothing of the failure in it (no traceback, no file path, not
the exception's own text), while its log has the whole trace for the operator."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from quantlink import aws, faults
from quantlink.errors import QuantLinkError

if TYPE_CHECKING:
    from conftest import Function, QuantLink

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
# What the failure says about itself; none of it may reach the caller.
LEAK = 'Traceback (most recent call last): File "/opt/python/quantlink/dal/secret_path.py", line 42'
FORBIDDEN_IN_ANSWERS = ("Traceback", 'File "', ".py", "/opt/python", "secret_path", "arn:aws:dynamodb")
INTERNAL = QuantLinkError().body()
# Functions that answer a caller, and for each the sample that must reach DynamoDB (so must fail).
ANSWERING = {
    "webhook": "signal",
    "terminal_pull": "pull",
    "terminal_ack": "ack",
    "terminal_push": "connect",
    "owner_api": "list_strategies",
}


class BrokenDynamoDB:
    """A DynamoDB client every call of which fails as an unplanned error would."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise broken(self.kind)

        return fail


def broken(kind: str) -> Exception:
    if kind == "client_error":  # what AWS answers for a table that is gone: its ARN in the message
        response: Any = {
            "Error": {"Code": "ResourceNotFoundException", "Message": f"arn:aws:dynamodb:...:table/x {LEAK}"}
        }
        return ClientError(response, "GetItem")
    return RuntimeError(LEAK)


def assert_clean(function: str, sample: str, reply: Any) -> None:
    text = reply.text
    for forbidden in FORBIDDEN_IN_ANSWERS:
        assert forbidden not in text, (function, sample, reply.status, text)
        assert all(forbidden not in value for value in reply.headers.values()), (function, sample)
    if reply.status >= 500:
        assert reply.status == 500 and reply.body == INTERNAL, (function, sample, text)


def assert_trace_logged(caplog: pytest.LogCaptureFixture, marker: str) -> None:
    """The log has the failure with its stack (Powertools formats exc_info as `exception` in its JSON)."""
    traced = [r for r in caplog.records if r.exc_info is not None and marker in str(r.exc_info[1])]
    assert traced, [r.getMessage() for r in caplog.records]
    assert "Traceback (most recent call last)" in caplog.text and marker in caplog.text


def invoke_sample(ql: QuantLink, function: str, sample: Path) -> Any:
    event = json.loads(sample.read_text(encoding="utf-8"))
    return ql.invoke(function, event)


@pytest.mark.parametrize("kind", ["runtime_error", "client_error"])
def test_every_sample_of_every_answering_function_fails_cleanly_when_dynamodb_breaks(
    ql: QuantLink,
    functions: dict[str, Function],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    monkeypatch.setattr(aws, "dynamodb", cache(lambda: BrokenDynamoDB(kind)))
    for function in functions.values():
        function.clear_caches()
    failed = set()
    for function, must_fail in ANSWERING.items():
        for sample in sorted((EVENTS_DIR / function).glob("*.json")):
            reply = invoke_sample(ql, function, sample)
            assert_clean(function, sample.stem, reply)
            if reply.status >= 500:
                failed.add((function, sample.stem))
        assert (function, must_fail) in failed, f"{function}/{must_fail} did not reach the broken table"
        assert_trace_logged(caplog, "secret_path.py")
        caplog.clear()


def test_a_crash_at_the_fault_seam_is_a_clean_500_and_a_logged_trace(
    ql: QuantLink, caplog: pytest.LogCaptureFixture
) -> None:
    strategy, _ = ql.linked()
    caplog.clear()
    with faults.armed(faults.AFTER_RECORD):
        reply = ql.webhook(strategy, ql.signal_body())
    assert_clean("webhook", "signal", reply)
    assert (reply.status, reply.body) == (500, INTERNAL)
    assert faults.AFTER_RECORD not in reply.text
    assert_trace_logged(caplog, f"injected fault at {faults.AFTER_RECORD}")
