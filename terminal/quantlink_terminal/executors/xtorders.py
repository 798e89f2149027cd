"""What an xtquant order's last known state means for the ack: executed (with the fill), failed (废单,
cancelled with nothing filled), or still open at the broker."""

from __future__ import annotations

from typing import Any

from quantlink_terminal.executors.xtcalls import OrderBook
from quantlink_terminal.models import EXECUTED, FAILED, Outcome

# xtconstant order statuses (委托状态). Named here so the code reads; values are xtquant's and stable.
ORDER_PART_CANCEL = 53  # 部撤: part filled, the rest cancelled
ORDER_CANCELED = 54  # 已撤
ORDER_SUCCEEDED = 56  # 已成
ORDER_JUNK = 57  # 废单: refused by the broker or the exchange
FINAL_STATUSES = frozenset({ORDER_PART_CANCEL, ORDER_CANCELED, ORDER_SUCCEEDED, ORDER_JUNK})


def order_outcome(book: OrderBook, order_id: int, order: Any, order_timeout: float, now: str) -> Outcome:
    """Map the order's last known state (None: none seen yet) and its callbacks to the ack."""
    broker_order_id = str(order_id)
    error = book.errors_by_order.get(order_id)
    status = None if order is None else int(order.order_status)
    if error is not None or status == ORDER_JUNK:
        message = (order.status_msg if order is not None else "") or error
        return Outcome(
            status=FAILED,
            broker_order_id=broker_order_id,
            filled=0,
            error=f"broker rejected the order (废单): {message} | 券商废单：{message}",
            code="broker.junk",
        )
    fills = book.trades.get(order_id, [])
    filled = (int(order.traded_volume) if order is not None else 0) or sum(v for v, _ in fills)
    avg_price = (float(order.traded_price) if order is not None else 0.0) or _average(fills)
    if status == ORDER_CANCELED and filled == 0:
        message = order.status_msg or "no counterparty"
        return Outcome(
            status=FAILED,
            broker_order_id=broker_order_id,
            filled=0,
            error=f"cancelled with nothing filled: {message} | 已撤单，未成交：{message}",
            code="broker.cancelled",
        )
    still_open = None
    if status not in FINAL_STATUSES:
        # A resting limit order: it is placed, so the signal is executed; say what is known so far.
        still_open = (
            f"order still open at the broker (status {status}) after {order_timeout:.0f} s; {filled} filled "
            f"so far | 委托仍在券商挂单（状态 {status}），{order_timeout:.0f} 秒内已成交 {filled} 股"
        )
    return Outcome(
        status=EXECUTED,
        broker_order_id=broker_order_id,
        filled=filled,
        avg_price=round(avg_price, 4) or None,
        executed_at=now,
        error=still_open,
        code="broker.still_open" if still_open else None,
    )


def _average(fills: list[tuple[int, float]]) -> float:
    volume = sum(v for v, _ in fills)
    return sum(v * p for v, p in fills) / volume if volume else 0.0
