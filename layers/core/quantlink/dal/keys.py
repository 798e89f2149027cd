"""The single table's layout: every key QuantLink writes is built here, and only here.

    pk                  sk                               item                  gsi1 (gsi1pk / gsi1sk)
    STRATEGY#<id>       #META                            Strategy              OWNER#<uid> / STRATEGY#<created>#<id>
    STRATEGY#<id>       DEDUP#<sha256>                   dedup marker (TTL)
    STRATEGY#<id>       SIGNAL#<signalId>                SignalRecord          (signal ids sort by time)
    STRATEGY#<id>       SIGNAL#<signalId>#D#<tid>        DeliveryRecord        (right after its signal)
    STRATEGY#<id>       SUB#<terminalId>                 Subscription          (the hot path's one Query)
    STRATEGY#<id>       POSITIONS#<at>                   leader position snapshot
    TERMINAL#<id>       #META                            Terminal              OWNER#<uid> / TERMINAL#<created>#<id>
    TERMINAL#<id>       SUB#<strategyId>                 the same subscription seen from the terminal
    TERMINAL#<id>       POSITIONS#<asOf>                 terminal holdings snapshot
    CONNECTION#<id>     #META                            push WebSocket -> its terminal (TTL)

A newest-first timeline is one Query over `SIGNAL#` .. `SIGNAL$` of the strategy's partition: each
signal's deliveries sort between it and the next signal. The owner's lists are one Query on gsi1.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from quantlink.timeutil import iso

META = "#META"
SUBSCRIPTION = "SUB#"
SIGNAL = "SIGNAL#"
SIGNALS_END = "SIGNAL$"  # "$" sorts right after "#": the upper bound of every SIGNAL# key
_DELIVERY = "#D#"
_DEDUP = "DEDUP#"
_POSITIONS = "POSITIONS#"
_STRATEGY = "STRATEGY#"
_TERMINAL = "TERMINAL#"
_OWNER = "OWNER#"
_CONNECTION = "CONNECTION#"


class Owned(StrEnum):
    """The kinds of record an owner lists through gsi1 (the prefix of its gsi1sk)."""

    STRATEGY = "STRATEGY#"
    TERMINAL = "TERMINAL#"


def strategy_pk(strategy_id: str) -> str:
    return f"{_STRATEGY}{strategy_id}"


def terminal_pk(terminal_id: str) -> str:
    return f"{_TERMINAL}{terminal_id}"


def connection_pk(connection_id: str) -> str:
    """A push WebSocket's record: which terminal holds it ($disconnect carries no credentials)."""
    return f"{_CONNECTION}{connection_id}"


def owner_gsi1pk(owner_id: str) -> str:
    return f"{_OWNER}{owner_id}"


def owned_gsi1sk(kind: Owned, created_at: datetime, record_id: str) -> str:
    """Sorts an owner's records of one kind by creation time."""
    return f"{kind.value}{iso(created_at)}#{record_id}"


def dedup_sk(dedup_key: str) -> str:
    return f"{_DEDUP}{dedup_key}"


def signal_sk(signal_id: str) -> str:
    return f"{SIGNAL}{signal_id}"


def delivery_sk(signal_id: str, terminal_id: str) -> str:
    return f"{deliveries_prefix(signal_id)}{terminal_id}"


def deliveries_prefix(signal_id: str) -> str:
    return f"{signal_sk(signal_id)}{_DELIVERY}"


def is_delivery_sk(sk: str) -> bool:
    return _DELIVERY in sk


def subscription_sk(other_id: str) -> str:
    """Under a strategy: SUB#<terminalId>; under a terminal: SUB#<strategyId>."""
    return f"{SUBSCRIPTION}{other_id}"


def subscribed_id(sk: str) -> str:
    """The id a SUB# sort key points at (the inverse of subscription_sk)."""
    return sk.removeprefix(SUBSCRIPTION)


def positions_sk(at: datetime) -> str:
    return f"{_POSITIONS}{iso(at)}"
