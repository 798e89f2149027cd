"""QuantDinger: what its generic webhook sender posts for a strategy in signal mode.

`Authorization: Bearer <token>`; with a signing secret, `X-QD-Timestamp` (Unix seconds) and
`X-QD-Signature` = lowercase hex HMAC-SHA256(secret, timestamp + "." + raw body), which this module checks
on the raw bytes, in constant time, within a replay window. The body is
`{"event": "qd.signal", "version": 1, "timestamp", "strategy", "instrument": {"symbol"}, "signal": {"type",
"action", "side"}, "order": {"ref_price", "stake_amount"}, "trace": {"pending_order_id", "mode"}, "extra"}`
plus display fields; `qd.profile_test` is the user's test button.

QuantDinger re-sends a stuck order with a new timestamp (so new bytes and a new signature): the dedup key is
the order, (`trace.pending_order_id`, `extra.status` when present), within the strategy, never the body."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from quantlink import sealing
from quantlink.errors import Unauthorized, ValidationFailed
from quantlink.http import Request, bearer_token, parse_body
from quantlink.models import (
    MAX_SEQ,
    MAX_SHARES,
    IncomingSignal,
    Leader,
    Price,
    Side,
    Strategy,
    TradeOrder,
    Version1,
    Worth,
)
from quantlink.securities import a_share_security, round_down_to_lot
from quantlink.sources.base import Parsed, Source
from quantlink.timeutil import iso

NAME = "quantdinger"
SIGNAL_EVENT = "qd.signal"
TEST_EVENT = "qd.profile_test"
# How far X-QD-Timestamp may be from our clock: a captured request cannot be replayed later than this.
REPLAY_WINDOW_SECONDS = 300
_SECRET_PREFIX = "qds_"

_BUYS = {"open_long", "add_long"}
_SELLS = {"reduce_long", "close_long"}
_SHORTS = {"open_short", "add_short", "reduce_short", "close_short"}


def new_signing_secret() -> str:
    return _SECRET_PREFIX + secrets.token_urlsafe(32)


class _QdModel(BaseModel):
    """QuantDinger's names are snake_case on the wire: no camelCase aliases here."""

    model_config = ConfigDict(extra="ignore", defer_build=True)


_Text = Annotated[str, Field(max_length=200)]


class QdEnvelope(_QdModel):
    event: Annotated[str, Field(min_length=1, max_length=64)]


class QdStrategy(_QdModel):
    id: Annotated[int, Field(ge=0, le=MAX_SEQ)] | None = None
    name: _Text | None = None


class QdInstrument(_QdModel):
    symbol: Annotated[str, Field(min_length=1, max_length=32)]


class QdSignal(_QdModel):
    type: Annotated[str, Field(min_length=1, max_length=32)]
    action: _Text | None = None
    side: _Text | None = None


class QdOrder(_QdModel):
    ref_price: Price
    stake_amount: Worth


class QdTrace(_QdModel):
    pending_order_id: Annotated[int, Field(gt=0, le=MAX_SEQ)]
    mode: _Text | None = None


class QdSignalBody(_QdModel):
    """What QuantLink reads of a `qd.signal` (the display fields QuantDinger adds are ignored)."""

    event: Literal["qd.signal"]
    version: Version1
    timestamp: Annotated[int, Field(ge=0, le=2**32)] | None = None  # Unix seconds
    timestamp_iso: _Text | None = None
    strategy: QdStrategy | None = None
    instrument: QdInstrument
    signal: QdSignal
    order: QdOrder
    trace: QdTrace
    extra: dict[str, Any] | None = None


# ---- the signature ---------------------------------------------------------------------------------


def signature(secret: str, timestamp: str, raw: bytes) -> str:
    """What QuantDinger puts in X-QD-Signature."""
    return hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + raw, hashlib.sha256).hexdigest()


def verify_signature(request: Request, secret: str, received_at: datetime) -> None:
    """Raises Unauthorized unless X-QD-Signature signs X-QD-Timestamp + "." + the raw body with `secret`
    and the timestamp is within the replay window of our clock."""
    timestamp = (request.headers.get("x-qd-timestamp") or "").strip()
    given = (request.headers.get("x-qd-signature") or "").strip().lower()
    if not timestamp or not given:
        raise Unauthorized(
            "This strategy requires QuantDinger's signature (X-QD-Timestamp and X-QD-Signature): paste the "
            "strategy's signing secret into QuantDinger's webhook signing secret."
        )
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise Unauthorized("X-QD-Timestamp must be Unix seconds.")
    skew = int(timestamp) - received_at.timestamp()
    if abs(skew) > REPLAY_WINDOW_SECONDS:
        raise Unauthorized(
            f"Stale signature: X-QD-Timestamp is {abs(skew):.0f} s from QuantLink's clock (at most "
            f"{REPLAY_WINDOW_SECONDS} s are accepted); check the clock of the QuantDinger server."
        )
    expected = signature(secret, timestamp, request.body).encode("ascii")
    if not hmac.compare_digest(expected, given.encode("utf-8", "replace")):
        raise Unauthorized("Invalid signature: X-QD-Signature does not match the strategy's signing secret.")


# ---- the body --------------------------------------------------------------------------------------


def _refused(field: str, message: str, sentence: str) -> ValidationFailed:
    return ValidationFailed(sentence, details=[{"field": field, "message": message}])


def _side(signal_type: str) -> Side:
    if signal_type in _BUYS:
        return Side.BUY
    if signal_type in _SELLS:
        return Side.SELL
    if signal_type in _SHORTS:
        raise _refused(
            "signal.type",
            "short signals are not supported",
            f"{signal_type} is a short signal: A-share spot accounts cannot short, so it is not relayed.",
        )
    raise _refused(
        "signal.type",
        "unknown signal type",
        f"Unknown signal type {signal_type!r}: expected open_long, add_long, reduce_long or close_long.",
    )


def _shares(order: QdOrder) -> int:
    """stake_amount is money (ref_price * count) when a price is known, else the count itself."""
    count = order.stake_amount / order.ref_price if order.ref_price > 0 else order.stake_amount
    return min(math.floor(count + 1e-9), MAX_SHARES)


def _dedup_key(body: QdSignalBody) -> str:
    status = (body.extra or {}).get("status")
    status_part = status if isinstance(status, str) and status else ""
    order = f"{NAME}\n{body.trace.pending_order_id}\n{status_part}"
    return hashlib.sha256(order.encode("utf-8")).hexdigest()


def to_signal(body: QdSignalBody) -> IncomingSignal:
    signal_type = body.signal.type.strip().lower()
    side = _side(signal_type)
    security = a_share_security(body.instrument.symbol, field="instrument.symbol")
    close_all = signal_type == "close_long"
    shares = _shares(body.order)
    if close_all:
        amount = max(shares, 1)  # for reference only: the terminal sells every sellable share
    else:
        amount = round_down_to_lot(security, shares)
        if amount == 0:
            raise _refused(
                "order.stake_amount",
                "less than one lot",
                f"The order comes to {shares} shares of {security}, less than one lot: nothing to relay.",
            )
    return IncomingSignal(
        dedup_key=_dedup_key(body),
        seq=body.trace.pending_order_id,
        order=TradeOrder(
            security=security,
            source_security=body.instrument.symbol,
            side=side,
            amount=amount,
            price=body.order.ref_price or None,
            style="market",
            source_order_id=str(body.trace.pending_order_id),
        ),
        leader=Leader(),
        run_type=body.trace.mode or None,
        dt=body.timestamp_iso or None,
        sent_at=iso(datetime.fromtimestamp(body.timestamp, tz=UTC)) if body.timestamp is not None else None,
        close_all=close_all,
    )


def parse(request: Request, strategy: Strategy, max_bytes: int, received_at: datetime) -> Parsed:
    if strategy.sealed_signing_secret is not None:
        # The caller's token was checked against the stored hash already: it opens the sealed secret.
        secret = sealing.unseal(token(request) or "", strategy.strategy_id, strategy.sealed_signing_secret)
        if secret is None:
            raise Unauthorized("Invalid signature: the strategy's signing secret cannot be read with this token.")
        verify_signature(request, secret, received_at)
    event = parse_body(QdEnvelope, request.body, max_bytes=max_bytes).event
    if event != SIGNAL_EVENT:
        return Parsed(ignored=event)
    return Parsed(signals=(to_signal(parse_body(QdSignalBody, request.body, max_bytes=max_bytes)),))


def token(request: Request) -> str | None:
    return bearer_token(request.headers)


SOURCE = Source(
    name=NAME, label="QuantDinger", token=token, parse=parse, body=QdSignalBody, sends_portfolio_value=False
)
