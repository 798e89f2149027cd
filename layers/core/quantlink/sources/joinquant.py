"""JoinQuant: the body the injected code posts (API.md, v 1). The dedup key is the SHA-256 of the
exact bytes: the injected sender resends identical bytes on retry, and `seq` makes two legitimate
identical orders differ."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from quantlink.http import Request, bearer_token, parse_body
from quantlink.models import (
    JOINQUANT,
    IncomingSignal,
    JoinQuantPositionsBody,
    JoinQuantSignalBody,
    Leader,
    Strategy,
    TradeOrder,
)
from quantlink.securities import to_exchange_form
from quantlink.sources.base import Parsed, Source

NAME = JOINQUANT


def parse_signal(headers: Mapping[str, str], raw: bytes, *, max_bytes: int) -> IncomingSignal:
    body = parse_body(JoinQuantSignalBody, raw, max_bytes=max_bytes)
    order = body.order
    portfolio = body.portfolio
    style = order.style or ("limit" if order.limit_price is not None else "market")
    return IncomingSignal(
        dedup_key=hashlib.sha256(raw).hexdigest(),
        seq=body.seq,
        order=TradeOrder(
            security=to_exchange_form(order.security),
            source_security=order.security,
            side=order.side,
            amount=order.amount,
            price=order.price,
            style=style,
            limit_price=order.limit_price,
            source_order_id=order.id,
        ),
        leader=Leader(
            total_value=portfolio.total_value if portfolio else None,
            position_after=portfolio.position_after if portfolio else None,
        ),
        run_type=body.run_type,
        dt=body.dt,
        sent_at=body.sent_at,
    )


def parse(request: Request, strategy: Strategy, max_bytes: int, received_at: datetime) -> Parsed:
    return Parsed(signals=(parse_signal(request.headers, request.body, max_bytes=max_bytes),))


def token(request: Request) -> str | None:
    return bearer_token(request.headers)


SOURCE = Source(
    name=NAME, label="JoinQuant", token=token, parse=parse, body=JoinQuantSignalBody, sends_portfolio_value=True
)


def parse_positions(headers: Mapping[str, str], raw: bytes, *, max_bytes: int) -> JoinQuantPositionsBody:
    body = parse_body(JoinQuantPositionsBody, raw, max_bytes=max_bytes)
    for index, position in enumerate(body.positions):
        # Same rule as signals: an unknown suffix is refused, not stored.
        to_exchange_form(position.security, field=f"positions.{index}.security")
    return body
