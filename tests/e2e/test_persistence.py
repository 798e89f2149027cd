"""The local stack keeps its data across restarts: after a clean stop (SIGTERM) and after a crash
(SIGKILL to the stack and its moto server, even right after an answer: every answered write is in
the journal) the same webhook token, terminal token and owner login work, and a signal queued but
never pulled is pulled exactly once. A data directory that cannot be used is a clear message, never
a traceback or a wipe."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from quantlink_local.client import OwnerClient, joinquant_signal, post_webhook
from quantlink_local.process import RunningStack, start_stack

# A short visibility timeout for the restart stacks: an in-flight signal comes back within the test.
VISIBILITY = {"VISIBILITY_TIMEOUT_SECONDS": "25"}


def port_of(stack: RunningStack) -> int:
    return int(stack.api_base.rsplit(":", 1)[1])


def relay_setup(stack: RunningStack) -> tuple[OwnerClient, dict[str, Any], dict[str, Any]]:
    owner = stack.new_owner()
    strategy = owner.create_strategy("kept")
    terminal = owner.create_terminal("kept pc")
    owner.subscribe(terminal["terminalId"], strategy["strategyId"], {"mode": "ratio"})
    return owner, strategy, terminal


def send(strategy: dict[str, Any], seq: int) -> str:
    answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(seq))
    assert answer.status_code == 202, answer.text
    signal_id: str = answer.json()["signalId"]
    return signal_id


def ack(owner: OwnerClient, terminal: dict[str, Any], signals: list[dict[str, Any]]) -> None:
    results = owner.ack(terminal["authToken"], [{
        "signalId": s["signalId"], "ackToken": s["ackToken"], "status": "executed", "brokerOrderId": "B1",
        "filled": s["amount"], "avgPrice": 10.5, "executedAt": datetime.now(UTC).isoformat(timespec="milliseconds"),
    } for s in signals])  # fmt: skip
    assert all(r["ok"] for r in results), results


def assert_kept(owner: OwnerClient, strategy: dict[str, Any], terminal: dict[str, Any], queued: str) -> None:
    """The owner's IdToken from before the restart, the webhook token and the terminal token all
    work, and the queued signal arrives once."""
    assert owner.request("GET", "/api/strategies").status_code == 200
    pulled = owner.pull(terminal["authToken"], "kept-device-01", wait=5)
    assert [s["signalId"] for s in pulled] == [queued]
    ack(owner, terminal, pulled)
    assert owner.pull(terminal["authToken"], "kept-device-01", wait=1) == []  # exactly once
    fresh = send(strategy, 99)
    assert [s["signalId"] for s in owner.pull(terminal["authToken"], "kept-device-01", wait=5)] == [fresh]


def test_a_clean_stop_keeps_tokens_logins_emails_and_the_queued_signal(tmp_path: Path) -> None:
    # Given a strategy, a terminal, a subscription, a signal queued but not pulled, and a sent email
    stack = start_stack(tmp_path, env=VISIBILITY)
    owner, strategy, terminal = relay_setup(stack)
    queued = send(strategy, 1)
    ses = stack.aws("ses")
    ses.verify_email_identity(EmailAddress="noreply@quantlink.local")
    ses.send_email(Source="noreply@quantlink.local", Destination={"ToAddresses": ["friend@example.com"]},
                   Message={"Subject": {"Data": "Invitation"}, "Body": {"Text": {"Data": "http://x/i/1"}}})  # fmt: skip
    demo_login = (stack.info["demoEmail"], stack.info["demoPassword"])
    # When the stack is stopped with SIGTERM and started again, on the port it had
    assert stack.stop() == 0
    restarted = start_stack(tmp_path, port=port_of(stack), env=VISIBILITY)
    try:
        # Then everything still works, the demo login is the same, and the email is in the outbox
        assert restarted.api_base == stack.api_base
        assert restarted.info["pushUrl"] == stack.info["pushUrl"]  # an agent's cached push URL still works
        assert (restarted.info["demoEmail"], restarted.info["demoPassword"]) == demo_login
        assert_kept(owner, strategy, terminal, queued)
        (email,) = requests.get(f"{restarted.api_base}/local/outbox", timeout=10).json()
        assert (email["to"], email["subject"], email["text"]) == (["friend@example.com"], "Invitation", "http://x/i/1")
    finally:
        restarted.stop()


def test_a_crash_after_the_window_loses_nothing_and_an_in_flight_signal_comes_back_once(tmp_path: Path) -> None:
    # Given a signal queued and not pulled, and another pulled but never acked (in flight)
    stack = start_stack(tmp_path, env=VISIBILITY)
    owner, strategy, terminal = relay_setup(stack)
    in_flight = send(strategy, 1)
    (pulled,) = owner.pull(terminal["authToken"], "kept-device-01", wait=5)
    assert pulled["signalId"] == in_flight
    pulled_at = time.monotonic()
    queued = send(strategy, 2)
    # When the stack and its moto server are SIGKILLed (nothing saves on exit)
    stack.crash()
    restarted = start_stack(tmp_path, port=port_of(stack), env=VISIBILITY)
    try:
        # Then nothing comes while the in-flight signal is invisible (it holds its FIFO group), then
        # it comes back when its visibility timeout has passed, followed by the queued one: each once
        assert time.monotonic() - pulled_at < 20, "the restart took too long for this test's timing"
        assert owner.pull(terminal["authToken"], "kept-device-01", wait=1) == []
        pulled_ids: list[str] = []
        while len(pulled_ids) < 2 and time.monotonic() - pulled_at < 60:
            batch = owner.pull(terminal["authToken"], "kept-device-01", wait=20)
            if batch and not pulled_ids:
                assert time.monotonic() - pulled_at >= 24, "the in-flight signal came back before its timeout"
            pulled_ids += [s["signalId"] for s in batch]
            if batch:  # a long-poll that ended before the visibility timeout passed brings nothing to ack
                ack(owner, terminal, batch)
        assert pulled_ids == [in_flight, queued]
        assert owner.pull(terminal["authToken"], "kept-device-01", wait=1) == []
        assert owner.request("GET", "/api/strategies").status_code == 200
        assert send(strategy, 3)
    finally:
        restarted.stop()


def test_a_kill_right_after_an_answered_webhook_loses_nothing(tmp_path: Path) -> None:
    # Given a new stack with a strategy, a terminal and a subscription (no snapshot yet: all in the journal)
    stack = start_stack(tmp_path, env=VISIBILITY)
    owner, strategy, terminal = relay_setup(stack)
    # When a webhook is answered and, without waiting at all, the stack and its moto server are SIGKILLed
    queued = send(strategy, 1)
    stack.crash()
    restarted = start_stack(tmp_path, port=port_of(stack), env=VISIBILITY)
    try:
        # Then the signal is there, pulled once, and the tokens and login of before work
        assert_kept(owner, strategy, terminal, queued)
    finally:
        restarted.stop()


def run_local(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quantlink_local", *args], capture_output=True, text=True, timeout=120, input=stdin
    )


def test_a_corrupt_state_file_is_a_clear_message_and_the_file_is_kept(tmp_path: Path) -> None:
    # Given a data directory whose state file was cut short (a disk full, a bad copy)
    stack = start_stack(tmp_path)
    relay_setup(stack)
    assert stack.stop() == 0
    data = tmp_path / "data"
    state = data / "aws-state.bin"
    state.write_bytes(state.read_bytes()[:-100])
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file() and p.name not in ("moto.log", "lock")}
    # When the stack starts on it
    result = run_local("--port", "0", "--data-dir", str(data))
    # Then it says what is wrong and how to move the directory aside, exits non-zero, and changed nothing
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "truncated or damaged" in result.stderr
    assert f"mv {data} {data}.unusable-" in result.stderr
    assert "make reset" in result.stderr
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file() and p.name not in ("moto.log", "lock")} == before


def test_a_damaged_stack_file_is_a_clear_message_too(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "stack.json").write_text('{"format": 1, "apiPo', encoding="utf-8")
    result = run_local("--port", "0", "--data-dir", str(data))
    assert result.returncode == 3
    assert "stack.json is not valid JSON" in result.stderr and "Traceback" not in result.stderr
    assert (data / "stack.json").read_text(encoding="utf-8") == '{"format": 1, "apiPo'


def test_two_stacks_cannot_share_a_data_directory(tmp_path: Path) -> None:
    stack = start_stack(tmp_path)
    try:
        result = run_local("--port", "0", "--data-dir", str(tmp_path / "data"))
        assert result.returncode == 3
        assert "is in use by another local stack" in result.stderr
        assert str(stack.process.pid) in result.stderr
        assert "Traceback" not in result.stderr
        assert requests.get(f"{stack.api_base}/api/health", timeout=10).status_code == 200  # undisturbed
    finally:
        stack.stop()


def test_reset_asks_first_and_wipes_with_yes(tmp_path: Path) -> None:
    stack = start_stack(tmp_path)
    assert stack.stop() == 0
    data = tmp_path / "data"
    assert (data / "aws-state.bin").exists()
    # without a terminal to ask on, nothing is wiped
    refused = run_local("--reset", "--data-dir", str(data), stdin="")
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert (data / "aws-state.bin").exists()
    wiped = run_local("--reset", "--yes", "--data-dir", str(data))
    assert wiped.returncode == 0, wiped.stderr
    assert not (data / "aws-state.bin").exists() and not (data / "stack.json").exists()


def test_the_banner_prints_what_the_other_tools_want(local_stack: RunningStack) -> None:
    banner = "\n".join(local_stack.banner)
    assert f'api_base = "{local_stack.api_base}"' in banner  # the agent's config: the base URL, no /api
    assert f"{local_stack.api_base}/api/webhooks/joinquant/<strategyId>" in banner
    assert f"{local_stack.api_base}/local/outbox" in banner
    data_line = next(line for line in local_stack.banner if line.strip().startswith("Data"))
    assert local_stack.log is not None
    assert str(local_stack.log.parent / "data") in data_line


def test_quantlink_local_lists_its_real_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "quantlink.cli", "local", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for option in ("--port", "--data-dir", "--reset", "--yes", "--ephemeral", "--host"):
        assert option in result.stdout, option


@pytest.mark.parametrize("spelling", ["--port {}", "--port={}"])
def test_quantlink_local_accepts_port_both_ways(spelling: str) -> None:
    # a port that is taken: the stack stops at its clear message, after parsing the option
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "quantlink.cli", "local", *spelling.format(port).split(), "--ephemeral"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert "unrecognized arguments" not in result.stderr
    assert result.returncode == 2 and f"Port {port} on 127.0.0.1 is in use" in result.stderr
