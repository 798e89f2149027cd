"""TradingView (and any tool that posts JSON): the alert message of `alert_template`, filled in by
TradingView's placeholders. TradingView sends no custom headers, so the webhook token travels in the
body's `"token"` (or the URL's `?token=`), compared in constant time like every token, and never logged.
TradingView retries an alert with identical bytes, and `{{timenow}}` makes two alerts differ: the dedup key
is the SHA-256 of the raw body. TradingView gives a webhook 3 seconds, which the relay's path keeps well
inside (see `make bench`)."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from quantlink.errors import ValidationFailed
from quantlink.http import Request, parse_body
from quantlink.models import MAX_PRICE, MAX_SEQ, MAX_SHARES, IncomingSignal, Leader, Side, Strategy, TradeOrder
from quantlink.securities import a_share_security
from quantlink.sources.base import Parsed, Source

NAME = "tradingview"
_MAX_TOKEN_CHARS = 256


def _number_text(value: Any) -> Any:
    """TradingView fills placeholders as text, quoted or not: "100" and 100 are the same count. A
    placeholder left as is (an indicator alert has no strategy.* values) is named, not just refused."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{{"):
            raise ValueError(f"the placeholder {text[:60]} was not filled in: use a strategy alert")
        try:
            return float(text)
        except ValueError:
            raise ValueError("must be a number") from None
    return value


_Count = Annotated[float, BeforeValidator(_number_text), Field(gt=0, le=MAX_SHARES, allow_inf_nan=False)]
_Price = Annotated[float, BeforeValidator(_number_text), Field(ge=0, le=MAX_PRICE, allow_inf_nan=False)]
_Size = Annotated[float, BeforeValidator(_number_text), Field(ge=-MAX_SHARES, le=MAX_SHARES, allow_inf_nan=False)]
_Text = Annotated[str, Field(max_length=128)]


class TradingViewAlert(BaseModel):
    """The alert message (alertTemplate); the names are camelCase like the rest of the API."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True)

    token: Annotated[str, Field(max_length=_MAX_TOKEN_CHARS)] | None = None
    ticker: Annotated[str, Field(min_length=1, max_length=40)]
    action: Annotated[str, Field(min_length=1, max_length=16)]
    contracts: _Count
    price: _Price | None = None
    order_id: _Text | None = None
    market_position: _Text | None = None
    position_size: _Size | None = None
    time: _Text | None = None


def alert_template(token: str) -> str:
    """The alert message to paste into TradingView (JSON once the placeholders are filled in). Quoted
    placeholders keep it JSON even when one is left empty."""
    fields = {
        "token": token,
        "ticker": "{{exchange}}:{{ticker}}",
        "action": "{{strategy.order.action}}",
        "contracts": "{{strategy.order.contracts}}",
        "price": "{{strategy.order.price}}",
        "orderId": "{{strategy.order.id}}",
        "marketPosition": "{{strategy.market_position}}",
        "positionSize": "{{strategy.position_size}}",
        "time": "{{timenow}}",
    }
    return json.dumps(fields, ensure_ascii=False, indent=2)


def token(request: Request) -> str | None:
    """`?token=` first (it costs no parse), else the body's "token"; None for anything else."""
    query_token = request.query.get("token")
    if query_token:
        return query_token
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError):  # not JSON: unauthenticated, like a missing token
        return None
    found = body.get("token") if isinstance(body, dict) else None
    return found if isinstance(found, str) and len(found) <= _MAX_TOKEN_CHARS else None


def _refused(field: str, message: str, sentence: str) -> ValidationFailed:
    return ValidationFailed(sentence, details=[{"field": field, "message": message}])


def _seq(alert: TradingViewAlert, received_at: datetime) -> int:
    """Milliseconds of the alert's {{timenow}} (received_at when absent or unreadable): increasing
    within a strategy, as `seq` should."""
    at = received_at
    if alert.time:
        try:
            parsed = datetime.fromisoformat(alert.time.replace("Z", "+00:00"))
        except ValueError:
            parsed = received_at
        at = parsed if parsed.tzinfo is not None else received_at
    return min(max(int(at.timestamp() * 1000), 0), MAX_SEQ)


def to_signal(alert: TradingViewAlert, raw: bytes, received_at: datetime) -> IncomingSignal:
    action = alert.action.strip().lower()
    if action not in (Side.BUY, Side.SELL):
        raise _refused("action", "expected buy or sell", f"Unknown action {alert.action!r}: expected buy or sell.")
    market_position = (alert.market_position or "").strip().lower()
    if market_position == "short":
        raise _refused(
            "marketPosition",
            "short positions are not supported",
            "The strategy goes short: A-share spot accounts cannot short, so the alert is not relayed.",
        )
    amount = math.floor(alert.contracts + 1e-9)
    if amount < 1:
        raise _refused("contracts", "less than one share", "The alert orders less than one share.")
    side = Side(action)
    # Flat after a sell: the strategy closed the position, so the terminal sells all it can.
    close_all = side == Side.SELL and (market_position == "flat" or alert.position_size == 0)
    return IncomingSignal(
        dedup_key=hashlib.sha256(raw).hexdigest(),
        seq=_seq(alert, received_at),
        order=TradeOrder(
            security=a_share_security(alert.ticker, field="ticker"),
            source_security=alert.ticker,
            side=side,
            amount=amount,
            price=alert.price or None,
            style="market",
            source_order_id=alert.order_id or None,
        ),
        leader=Leader(position_after=abs(alert.position_size) if alert.position_size is not None else None),
        dt=alert.time,
        close_all=close_all,
    )


def parse(request: Request, strategy: Strategy, max_bytes: int, received_at: datetime) -> Parsed:
    alert = parse_body(TradingViewAlert, request.body, max_bytes=max_bytes)
    return Parsed(signals=(to_signal(alert, request.body, received_at),))


SOURCE = Source(
    name=NAME, label="TradingView", token=token, parse=parse, body=TradingViewAlert, sends_portfolio_value=False
)
