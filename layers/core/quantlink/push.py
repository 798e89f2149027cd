"""The push WebSocket's life (API.md, "Push"): a terminal opens it with the pull's credentials and
device claim, holds it while idle at no Lambda cost, and closes or loses it. What is pushed over it is
the relay's fan-out (quantlink.relay.push_signal)."""

from __future__ import annotations

import json
from datetime import datetime

from quantlink.dal.ports import RelayStore
from quantlink.observability import Metric, MetricUnit, logger, metrics
from quantlink.relay import authenticate_terminal, claim_device
from quantlink.views.relay import PushFrame

PING_ACTION = "ping"


def connect_terminal(
    store: RelayStore, token: str | None, fingerprint: str | None, connection_id: str, *, at: datetime
) -> str:
    """$connect: authenticate and claim the device exactly as a pull does (401, DEVICE_TAKEN_OVER), then
    make this the terminal's connection. Returns the terminal id."""
    terminal = authenticate_terminal(store, token)
    claim_device(store, terminal, fingerprint, at=at)
    store.set_push_connection(terminal.terminal_id, connection_id, at=at)
    metrics.add_metric(name=Metric.PUSH_CONNECTIONS, unit=MetricUnit.Count, value=1)
    logger.info("push connected", extra={"terminal_id": terminal.terminal_id})
    return terminal.terminal_id


def disconnect_terminal(store: RelayStore, connection_id: str) -> None:
    """$disconnect: forget the connection, on the terminal only if it is still its connection (a
    refresh's new connection is recorded before the old one closes)."""
    terminal_id = store.forget_connection(connection_id)
    if terminal_id is not None:
        store.clear_push_connection(terminal_id, connection_id)


def answer_message(body: str | None) -> PushFrame | None:
    """$default: the terminal's keepalive {"action": "ping"} is answered {"type": "ping"} (which tells it
    the connection still works); anything else is ignored."""
    try:
        message = json.loads(body or "")
    except ValueError:
        return None
    if isinstance(message, dict) and message.get("action") == PING_ACTION:
        return PushFrame(type="ping")
    return None
