"""What a broker's last word on an order means for the ack, in the same words for every broker API
(miniQMT, PTrade): rejected (废单), cancelled with nothing filled, or placed (filled, or still resting)."""

from __future__ import annotations

from quantlink_terminal.models import EXECUTED, FAILED, Outcome


def junk(broker_order_id: str, message: str) -> Outcome:
    """The broker or the exchange refused the order after taking it (废单)."""
    return Outcome(
        status=FAILED,
        broker_order_id=broker_order_id,
        filled=0,
        error=f"broker rejected the order (废单): {message} | 券商废单：{message}",
        code="broker.junk",
    )


def cancelled_unfilled(broker_order_id: str, message: str) -> Outcome:
    return Outcome(
        status=FAILED,
        broker_order_id=broker_order_id,
        filled=0,
        error=f"cancelled with nothing filled: {message} | 已撤单，未成交：{message}",
        code="broker.cancelled",
    )


def placed(
    broker_order_id: str,
    filled: int,
    avg_price: float | None,
    now: str,
    open_status: str | None = None,
    order_timeout: float = 0.0,
) -> Outcome:
    """Placed at the broker: executed with what filled. `open_status` (the broker's status code) says the
    order is still resting after `order_timeout` seconds, which the ack's error text tells the owner."""
    still_open = None
    if open_status is not None:
        # A resting limit order: it is placed, so the signal is executed; say what is known so far.
        still_open = (
            f"order still open at the broker (status {open_status}) after {order_timeout:.0f} s; {filled} "
            f"filled so far | 委托仍在券商挂单（状态 {open_status}），"
            f"{order_timeout:.0f} 秒内已成交 {filled} 股"
        )
    return Outcome(
        status=EXECUTED,
        broker_order_id=broker_order_id,
        filled=filled,
        avg_price=None if not avg_price else round(avg_price, 4),
        executed_at=now,
        error=still_open,
        code="broker.still_open" if still_open else None,
    )
