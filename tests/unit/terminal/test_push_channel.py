"""The agent's push channel on a fake WebSocket (no sockets): frames reach take(), every (re)connect asks
for a catch-up pull, the keepalive is sent and its answer awaited, a refresh opens the new connection
before closing the old, a 409 / 401 upgrade is fatal, and a socket that cannot open means long-poll."""

from __future__ import annotations

import json
import queue
import time
from types import SimpleNamespace
from typing import Any

import pytest

from quantlink_terminal.push import PushChannel


class FakeSocket:
    def __init__(self, name: str, events: list[str]) -> None:
        self.name = name
        self.events = events
        self.incoming: queue.Queue[str] = queue.Queue()
        self.sent: list[str] = []
        self.closed = False

    def send(self, text: str) -> None:
        self.sent.append(text)
        if json.loads(text) == {"action": "ping"}:
            self.incoming.put(json.dumps({"type": "ping"}))

    def recv(self, timeout: float) -> str:
        if self.closed:
            raise ConnectionError("closed")
        try:
            return self.incoming.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError from None

    def close(self) -> None:
        if not self.closed:
            self.events.append(f"close {self.name}")
        self.closed = True


class Refused(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(status)
        self.response = SimpleNamespace(status_code=status, body=json.dumps({"code": code, "message": "no"}).encode())


def until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def channel(connector: Any, **options: Any) -> PushChannel:
    return PushChannel("wss://push.example/prod", "trm_1.secret", "fp-1234567", connector=connector, **options)


def test_pushed_signals_reach_take_and_each_connect_asks_for_a_catch_up_pull() -> None:
    events: list[str] = []
    sockets: list[FakeSocket] = []
    seen_headers: list[dict[str, str]] = []

    def connector(url: str, headers: dict[str, str]) -> FakeSocket:
        seen_headers.append(headers)
        sockets.append(FakeSocket(f"s{len(sockets)}", events))
        return sockets[-1]

    push = channel(connector).start()
    try:
        until(lambda: push.connected)
        assert push.state == "push"
        assert push.needs_catch_up() and not push.needs_catch_up()  # once per connect
        frame = {"type": "signals", "signals": [{"signalId": "sig_1", "ackToken": "p1:stg_a:x"}]}
        sockets[0].incoming.put(json.dumps(frame))
        assert [s["signalId"] for s in push.take(2.0)] == ["sig_1"]
        assert push.take(0) == []

        push.drop()  # the network fails: the channel reconnects and asks for a catch-up pull again
        until(lambda: len(sockets) == 2 and push.connected)
        assert push.needs_catch_up()
    finally:
        push.stop()
    assert seen_headers[0] == {"Authorization": "Bearer trm_1.secret", "X-Device-Fingerprint": "fp-1234567"}


def test_the_keepalive_is_sent_and_a_refresh_opens_the_new_connection_before_closing_the_old() -> None:
    events: list[str] = []
    sockets: list[FakeSocket] = []

    def connector(url: str, headers: dict[str, str]) -> FakeSocket:
        events.append(f"open s{len(sockets)}")
        sockets.append(FakeSocket(f"s{len(sockets)}", events))
        return sockets[-1]

    push = channel(connector, ping_interval=0.1, refresh_after=0.5).start()
    try:
        until(lambda: len(sockets) >= 2, timeout=5)
        assert push.connected
    finally:
        push.stop()
    assert '{"action": "ping"}' in sockets[0].sent
    assert events[:3] == ["open s0", "open s1", "close s0"]  # make before break


@pytest.mark.parametrize(("status", "code"), [(409, "DEVICE_TAKEN_OVER"), (401, "UNAUTHORIZED")])
def test_a_refused_upgrade_is_fatal(status: int, code: str) -> None:
    def connector(url: str, headers: dict[str, str]) -> FakeSocket:
        raise Refused(status, code)

    push = channel(connector).start()
    until(lambda: push.fatal is not None)
    assert (push.fatal.status, push.fatal.code) == (status, code)  # type: ignore[union-attr]
    assert not push.connected
    push.stop()


def test_a_socket_that_cannot_open_leaves_the_agent_long_polling_and_says_why() -> None:
    attempts: list[float] = []

    def connector(url: str, headers: dict[str, str]) -> FakeSocket:
        attempts.append(time.monotonic())
        raise OSError("proxy refused the upgrade")

    push = channel(connector, retry_delays=(0.05,)).start()
    try:
        until(lambda: len(attempts) >= 3)
        assert not push.connected and push.fatal is None
        assert push.state.startswith("long-poll (push unavailable: OSError: proxy refused the upgrade")
    finally:
        push.stop()
