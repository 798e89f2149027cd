"""The push function in-process under moto, fed the WebSocket proxy events of events/terminal_push:
$connect claims the device and records the connection, the webhook then posts the signal to it through
moto's management API (which stores it), $default answers the ping, $disconnect forgets the connection."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import quote

from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

from tests.integration.conftest import ACCOUNT_ID, REGION, QuantLink, TerminalCreds, load_event


def ws_event(sample: str, terminal: TerminalCreds | None = None, connection: str = "conn-1=", **headers: str) -> Any:
    event = copy.deepcopy(load_event(f"terminal_push/{sample}"))
    event["requestContext"]["connectionId"] = connection
    if terminal is not None:
        event["headers"]["Authorization"] = f"Bearer {terminal.token}"
    event.setdefault("headers", {}).update(headers)
    return event


def posted(connection: str) -> list[dict[str, Any]]:
    backend = apigatewaymanagementapi_backends[ACCOUNT_ID][REGION]
    stored = backend.connections.get(quote(connection, safe=""))  # moto keys them as they are in the URL
    data = stored.data if stored is not None else b""
    return [json.loads(data)] if data else []


def test_a_connected_terminal_gets_the_signal_posted_and_the_ping_answered(ql: QuantLink) -> None:
    strategy, (terminal,) = ql.linked()
    assert ql.invoke("terminal_push", ws_event("connect", terminal)).status == 200
    assert ql.stack.item(f"TERMINAL#{terminal.terminal_id}", "#META")["pushConnectionId"] == "conn-1="

    signal_id = ql.send_signal(strategy)["signalId"]

    (frame,) = posted("conn-1=")
    assert frame["type"] == "signals" and frame["signals"][0]["signalId"] == signal_id
    assert frame["signals"][0]["ackToken"].startswith("p1:")
    reply = ql.invoke("terminal_push", ws_event("ping"))
    assert (reply.status, reply.body) == (200, {"type": "ping"})

    assert ql.invoke("terminal_push", ws_event("disconnect")).status == 200
    assert "pushConnectionId" not in ql.stack.item(f"TERMINAL#{terminal.terminal_id}", "#META")


def test_the_upgrade_is_refused_like_a_pull_with_nothing_recorded(ql: QuantLink) -> None:
    _, (terminal,) = ql.linked()
    assert ql.invoke("terminal_push", ws_event("connect", terminal)).status == 200

    other_device = ql.invoke(
        "terminal_push", ws_event("connect", terminal, "conn-2=", **{"X-Device-Fingerprint": "other-device-1"})
    )
    wrong_token = ql.invoke("terminal_push", ws_event("connect", None, "conn-3="))
    no_device = ql.invoke("terminal_push", ws_event("connect", terminal, "conn-4=", **{"X-Device-Fingerprint": ""}))

    assert (other_device.status, other_device.error_code()) == (409, "DEVICE_TAKEN_OVER")
    assert (wrong_token.status, wrong_token.error_code()) == (401, "UNAUTHORIZED")
    assert (no_device.status, no_device.error_code()) == (400, "VALIDATION_ERROR")
    assert ql.stack.item(f"TERMINAL#{terminal.terminal_id}", "#META")["pushConnectionId"] == "conn-1="
    assert ql.stack.items_under("CONNECTION#conn-2=") == []
