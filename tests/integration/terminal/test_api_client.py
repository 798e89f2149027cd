"""The urllib client against a fake QuantLink speaking API.md on 127.0.0.1."""

from __future__ import annotations

import socket

import pytest

from quantlink_terminal.backoff import Backoff
from quantlink_terminal.client import (
    ApiError,
    DeviceTakenOver,
    QuantLinkClient,
    RateLimited,
    TransientError,
    Unauthorized,
    retry_after_seconds,
)
from tests.unit.terminal.terminal_fakes import GOOD_TOKEN, FakeQuantLink, wire_signal

DEVICE = "device-test-0001"


def client(api: FakeQuantLink, token: str = GOOD_TOKEN, device: str = DEVICE) -> QuantLinkClient:
    return QuantLinkClient(api.api_base, token, device, timeout=5)


def test_pull_sends_token_fingerprint_and_long_poll_parameters(fake_api: FakeQuantLink) -> None:
    fake_api.publish(wire_signal("sig-1"))
    signals = client(fake_api).pull(wait=20, max_signals=10)

    assert [s["signalId"] for s in signals] == ["sig-1"]
    method, path, headers = fake_api.requests[-1]
    assert (method, path) == ("GET", "/api/terminals/pull?wait=20&max=10")
    assert headers["Authorization"] == f"Bearer {GOOD_TOKEN}"
    assert headers["X-Device-Fingerprint"] == DEVICE


def test_an_empty_long_poll_is_an_empty_list(fake_api: FakeQuantLink) -> None:
    assert client(fake_api).pull(wait=1) == []


def test_ack_reports_per_signal_results_in_batches_of_ten(fake_api: FakeQuantLink) -> None:
    fake_api.publish(*[wire_signal(f"sig-{i}") for i in range(12)])
    api = client(fake_api)
    pulled = api.pull(wait=0, max_signals=10) + api.pull(wait=0, max_signals=10)
    acks = [{"signalId": s["signalId"], "ackToken": s["ackToken"], "status": "executed"} for s in pulled]
    acks.append({"signalId": "sig-unknown", "ackToken": "nope", "status": "executed"})

    results = api.ack(acks)

    assert [len(request) for request in fake_api.ack_requests] == [10, 3]
    assert results == {**{f"sig-{i}": True for i in range(12)}, "sig-unknown": False}


def test_wrong_token_is_unauthorized(fake_api: FakeQuantLink) -> None:
    with pytest.raises(Unauthorized) as raised:
        client(fake_api, token="tt_rotated").pull(wait=0)
    assert (raised.value.status, raised.value.code) == (401, "UNAUTHORIZED")


def test_another_device_gets_device_taken_over(fake_api: FakeQuantLink) -> None:
    client(fake_api, device="first-device-0001").pull(wait=0)
    with pytest.raises(DeviceTakenOver) as raised:
        client(fake_api, device="second-device-002").pull(wait=0)
    assert raised.value.code == "DEVICE_TAKEN_OVER"


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_transient(fake_api: FakeQuantLink, status: int) -> None:
    fake_api.fail("/api/terminals/pull", status)
    with pytest.raises(TransientError):
        client(fake_api).pull(wait=0)


def test_a_429_is_rate_limited_with_the_servers_retry_after(fake_api: FakeQuantLink) -> None:
    fake_api.throttle("/api/terminals/pull", retry_after="7")
    with pytest.raises(RateLimited) as raised:
        client(fake_api).pull(wait=0)
    assert (raised.value.status, raised.value.code, raised.value.retry_after) == (429, "RATE_LIMITED", 7.0)
    fake_api.throttle("/api/terminals/ack", retry_after=None)  # API Gateway's own throttling sends none
    with pytest.raises(RateLimited) as raised:
        client(fake_api).ack([{"signalId": "s", "ackToken": "t", "status": "executed"}])
    assert raised.value.retry_after is None


def test_retry_after_is_read_as_delta_seconds() -> None:
    assert retry_after_seconds("45") == 45.0
    assert retry_after_seconds(" 3 ") == 3.0
    for unreadable in (None, "", "soon", "-3", "1.5", "Wed, 21 Oct 2015 07:28:30 GMT"):
        assert retry_after_seconds(unreadable) is None, unreadable


def test_other_client_errors_are_not_transient(fake_api: FakeQuantLink) -> None:
    with pytest.raises(ApiError) as raised:
        client(fake_api)._request("GET", "/api/terminals/nowhere")
    assert not isinstance(raised.value, TransientError) and raised.value.code == "NOT_FOUND"


def test_connection_refused_is_transient() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientError) as raised:
        QuantLinkClient(f"http://127.0.0.1:{port}", GOOD_TOKEN, DEVICE, timeout=5).pull(wait=0)
    assert raised.value.code == "NETWORK"


def test_positions_post_carries_the_report(fake_api: FakeQuantLink) -> None:
    report = {"asOf": "2026-11-20T15:05:00+08:00", "positions": [], "cash": 1.0, "totalAsset": 1.0}
    client(fake_api).post_positions(report)
    assert fake_api.positions == [report]


def test_backoff_grows_exponentially_to_the_cap_with_full_jitter() -> None:
    ceilings = Backoff(base=1.0, cap=8.0, rand=lambda: 1.0)
    assert [ceilings.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    ceilings.reset()
    assert ceilings.next_delay() == 1.0
    jittered = Backoff(base=1.0, cap=8.0, rand=lambda: 0.25)
    assert [jittered.next_delay() for _ in range(3)] == [0.25, 0.5, 1.0]
