"""What an xtquant order's last known state means for the ack: executed (with the fill), failed (废单,
cancelled with nothing filled), or still open at the broker."""

from __future__ import annotations

from typing import Any

from quantlink_terminal.executors import outcomes
from quantlink_terminal.executors.xtcalls import OrderBook
from quantlink_terminal.models import Outcome

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
        return outcomes.junk(broker_order_id, (order.status_msg if order is not None else "") or str(error))
    fills = book.trades.get(order_id, [])
    filled = (int(order.traded_volume) if order is not None else 0) or sum(v for v, _ in fills)
    avg_price = (float(order.traded_price) if order is not None else 0.0) or _average(fills)
    if status == ORDER_CANCELED and filled == 0:
        return outcomes.cancelled_unfilled(broker_order_id, order.status_msg or "no counterparty")
    open_status = None if status in FINAL_STATUSES else str(status)
    return outcomes.placed(broker_order_id, filled, avg_price, now, open_status, order_timeout)


def _average(fills: list[tuple[int, float]]) -> float:
    volume = sum(v for v, _ in fills)
    return sum(v * p for v, p in fills) / volume if volume else 0.0
