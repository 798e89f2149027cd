"""The API emulator at the HTTP level: whatever bytes a client sends, the answer is API.md's JSON
error body or a clean close (never an HTML page, a hang, or a request processed from a lie about
its length); a client that leaves mid-long-poll is one quiet log line; long-polls run at once."""

from __future__ import annotations

import json
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from quantlink_local.client import OwnerClient
from quantlink_local.process import RunningStack


def exchange(stack: RunningStack, raw: bytes, timeout: float = 10) -> bytes:
    """Send `raw`, read until the server closes (every malformed request ends the connection)."""
    address = urlsplit(stack.api_base)
    with socket.create_connection((address.hostname, address.port), timeout=timeout) as connection:
        connection.sendall(raw)
        chunks = []
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                chunk = connection.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        else:
            pytest.fail(f"the server kept the connection open after {raw[:60]!r}")
    return b"".join(chunks)


def error_answer(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    assert status_line.startswith("HTTP/1.1 "), status_line
    headers = dict(line.split(": ", 1) for line in header_lines)
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Content-Length"]) == len(body)
    payload = json.loads(body)
    assert set(payload) >= {"code", "message"}, payload
    return int(status_line.split()[1]), payload


MALFORMED = {
    "TRACE": (b"TRACE /api/health HTTP/1.1\r\nHost: x\r\n\r\n", 404, "NOT_FOUND"),
    "an unknown method": (b"BREW /api/health HTTP/1.1\r\nHost: x\r\n\r\n", 404, "NOT_FOUND"),
    "an over-long request line": (b"GET /api/" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 413, "PAYLOAD_TOO_LARGE"),
    "an over-long header": (b"GET /api/health HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", 413,
                            "PAYLOAD_TOO_LARGE"),
    "too many headers": (b"GET /api/health HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + b"\r\n",
                         413, "PAYLOAD_TOO_LARGE"),
    "Content-Length -1": (b"POST /api/health HTTP/1.1\r\nContent-Length: -1\r\n\r\n{}", 400, "VALIDATION_ERROR"),
    "Content-Length not a number": (b"POST /api/health HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n", 400,
                                    "VALIDATION_ERROR"),
    "two Content-Lengths": (b"POST /api/health HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}", 400,
                            "VALIDATION_ERROR"),
    "Content-Length with Transfer-Encoding": (
        b"POST /api/health HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}", 400,
        "VALIDATION_ERROR"),
    "a bad chunk size": (b"POST /api/health HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400,
                         "VALIDATION_ERROR"),
    "a body too large": (b"POST /api/health HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", 413,
                         "PAYLOAD_TOO_LARGE"),
    "garbage": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n", 400, "VALIDATION_ERROR"),
    "an HTTP/0.9 request": (b"GET /api/health\r\n\r\n", 400, "VALIDATION_ERROR"),
    "a bad version": (b"GET /api/health HTTP/7.1\r\n\r\n", 400, "VALIDATION_ERROR"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_request_gets_the_json_error_body_and_a_close(local_stack: RunningStack, case: str) -> None:
    raw, status, code = MALFORMED[case]
    started = time.monotonic()
    answer = exchange(local_stack, raw)
    assert time.monotonic() - started < 5, "answered only after a wait (the request hung)"
    assert b"<html" not in answer.lower() and b"<!doctype" not in answer.lower()
    got_status, payload = error_answer(answer)
    assert (got_status, payload["code"]) == (status, code), payload
    if code == "VALIDATION_ERROR":
        assert payload["details"], payload
    # and the emulator is still fine
    assert requests.get(f"{local_stack.api_base}/api/health", timeout=10).json() == {"status": "ok"}


def test_a_body_shorter_than_its_content_length_is_never_processed(local_stack: RunningStack) -> None:
    address = urlsplit(local_stack.api_base)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(b'POST /api/terminals/ack HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"acks"')
        connection.shutdown(socket.SHUT_WR)  # the client gives up: nothing more comes
        assert connection.recv(65536) == b""  # a clean close, no answer to a request never received whole


def test_a_chunked_body_is_read_as_api_gateway_would(owner: OwnerClient) -> None:
    strategy = owner.create_strategy("chunked")
    body = json.dumps({"name": "renamed by chunks"}).encode()

    def chunks():  # requests sends a generator with Transfer-Encoding: chunked
        yield body[:5]
        yield body[5:]

    answer = owner.session.patch(f"{owner.api_base}/api/strategies/{strategy['strategyId']}", data=chunks(),
                                 headers={"Content-Type": "application/json"}, timeout=10)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == "renamed by chunks"


def test_a_client_leaving_mid_long_poll_is_one_quiet_log_line(local_stack: RunningStack, owner: OwnerClient) -> None:
    terminal = owner.create_terminal("leaves")
    assert local_stack.log is not None
    before = local_stack.log.read_text(encoding="utf-8", errors="replace")
    address = urlsplit(local_stack.api_base)
    for _ in range(2):
        connection = socket.create_connection((address.hostname, address.port), timeout=10)
        connection.sendall(
            b"GET /api/terminals/pull?wait=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + terminal["authToken"].encode() + b"\r\nX-Device-Fingerprint: leaving-device-1\r\n\r\n"
        )  # fmt: skip
        time.sleep(0.3)
        # an abortive close (RST), as a killed agent's socket does
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
    time.sleep(2.5)  # the polls end, their answers meet the closed sockets
    added = local_stack.log.read_text(encoding="utf-8", errors="replace")[len(before) :]
    assert "Traceback" not in added
    lines = [line for line in added.splitlines() if "/api/terminals/pull" in line]
    assert len(lines) == 2 and all("left before its answer" in line for line in lines), added


def test_empty_long_polls_wait_together_not_one_after_another(owner: OwnerClient) -> None:
    # Given N terminals with nothing to pull
    n, wait = 6, 2
    terminals = [owner.create_terminal(f"idle-{i}") for i in range(n)]

    # When each long-polls with wait=w at the same moment
    def poll(terminal: dict[str, str]) -> float:
        started = time.monotonic()
        assert owner.pull(terminal["authToken"], f"idle-{terminal['terminalId']}", wait=wait) == []
        return time.monotonic() - started

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=n) as pool:
        each = list(pool.map(poll, terminals))
    total = time.monotonic() - started
    # Then each one waited about w, and all together took about w, not N×w
    assert min(each) >= wait - 0.2, each
    assert total < wait * 2, f"{n} polls of {wait}s took {total:.1f}s: served one after another"
