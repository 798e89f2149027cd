"""The wire shapes the agent reads and writes (API.md, Terminal section), as plain typed records."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Mapping

from quantlink_terminal.clock import parse_iso
from quantlink_terminal.reasons import Reason

BUY = "buy"
SELL = "sell"

# Where a signal comes from (API.md `origin`): the strategy's own order, or an owner-approved drift repair.
ORIGIN_SOURCE = "source"
ORIGIN_SYNC = "sync"
MAX_ORIGIN_CHARS = 32

EXECUTED = "executed"
FAILED = "failed"
REJECTED = "rejected"

MAX_ERROR_CHARS = 1000


class MalformedSignal(ValueError):
    """A pulled signal the agent cannot act on; it is acked `rejected` when it names itself."""

    def __init__(self, reason: str, signal_id: str | None, ack_token: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.signal_id = signal_id
        self.ack_token = ack_token


@dataclass(frozen=True)
class Leader:
    """The strategy's (JoinQuant) side of the trade, needed for proportional sizing."""

    total_value: float | None = None
    position_after: int | None = None


@dataclass(frozen=True)
class Signal:
    signal_id: str
    ack_token: str
    strategy_id: str
    seq: int
    security: str  # exchange form: 600000.SH, 000001.SZ, 430047.BJ
    side: str  # BUY or SELL
    amount: int  # the leader's share count
    price: float | None = None
    limit_price: float | None = None
    leader: Leader = field(default_factory=Leader)
    sizing: dict[str, Any] = field(default_factory=dict)
    source_security: str | None = None
    expires_at: datetime | None = None
    # API.md `closeAll`: the source means "sell everything sellable"; `amount` is then the leader's count,
    # for reference only. Only ever set on a sell.
    close_all: bool = False
    origin: str = ORIGIN_SOURCE

    @property
    def is_limit(self) -> bool:
        return self.limit_price is not None

    @property
    def is_sync(self) -> bool:
        return self.origin == ORIGIN_SYNC


@dataclass(frozen=True)
class Outcome:
    """What happened to one signal on this terminal: the body of its ack, minus the ack token."""

    status: str  # EXECUTED, FAILED or REJECTED
    broker_order_id: str | None = None
    filled: int | None = None
    avg_price: float | None = None
    executed_at: str | None = None
    error: str | None = None
    code: str | None = None  # why, as a stable code (reasons.Reason.code); kept locally, not acked

    def to_ack(self, signal_id: str, ack_token: str) -> dict[str, Any]:
        ack: dict[str, Any] = {"signalId": signal_id, "ackToken": ack_token, "status": self.status}
        optional = {
            "brokerOrderId": self.broker_order_id,
            "filled": self.filled,
            "avgPrice": self.avg_price,
            "executedAt": self.executed_at,
            # Broker messages can be long; the server keeps a bounded error text.
            "error": None if self.error is None else self.error[:MAX_ERROR_CHARS],
        }
        ack.update({key: value for key, value in optional.items() if value is not None})
        return ack

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        return cls(**json.loads(text))

    @classmethod
    def refused(cls, status: str, reason: Reason) -> Outcome:
        return cls(status=status, error=reason.text(), code=reason.code)


def _optional_float(raw: Mapping[str, Any], key: str) -> float | None:
    value = raw.get(key)
    return None if value is None else float(value)


def _close_all(raw: Mapping[str, Any], side: str) -> bool:
    value = raw.get("closeAll")
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValueError(f"closeAll must be true or false, got {value!r}")
    if value and side != SELL:
        raise ValueError(f"closeAll (sell everything sellable) is only valid on a sell, not on a {side}")
    return value


def _origin(raw: Mapping[str, Any]) -> str:
    value = raw.get("origin")
    if value is None:
        return ORIGIN_SOURCE
    # Any label is carried (a later server may add origins); it never changes how the order is executed.
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ORIGIN_CHARS:
        raise ValueError(f"origin must be a short string such as 'source' or 'sync', got {value!r}")
    return value


def parse_signal(raw: Mapping[str, Any]) -> Signal:
    """Turn one element of the pull answer into a Signal, or raise MalformedSignal saying what is wrong."""
    signal_id = raw.get("signalId")
    ack_token = raw.get("ackToken")
    if not isinstance(signal_id, str) or not isinstance(ack_token, str):
        raise MalformedSignal("signal without signalId/ackToken", None, None)
    try:
        side = str(raw["side"]).lower()
        if side not in (BUY, SELL):
            raise ValueError("side must be buy or sell, got {!r}".format(raw["side"]))
        amount = int(raw["amount"])
        if amount <= 0:
            raise ValueError("amount must be a positive share count, got {!r}".format(raw["amount"]))
        leader_raw = raw.get("leader") or {}
        position_after = leader_raw.get("positionAfter")
        expires_at = raw.get("expiresAt")
        sizing = raw.get("sizing") or {}
        if not isinstance(sizing, dict):
            raise ValueError("sizing must be an object")
        return Signal(
            signal_id=signal_id,
            ack_token=ack_token,
            strategy_id=str(raw.get("strategyId", "")),
            seq=int(raw.get("seq") or 0),
            security=str(raw["security"]).upper(),
            side=side,
            amount=amount,
            price=_optional_float(raw, "price"),
            limit_price=_optional_float(raw, "limitPrice"),
            leader=Leader(
                total_value=_optional_float(leader_raw, "totalValue"),
                position_after=None if position_after is None else int(position_after),
            ),
            sizing=dict(sizing),
            source_security=raw.get("sourceSecurity"),
            expires_at=None if expires_at is None else parse_iso(str(expires_at)),
            close_all=_close_all(raw, side),
            origin=_origin(raw),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedSignal(f"malformed signal: {exc}", signal_id, ack_token) from exc
