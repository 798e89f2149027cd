"""The plumbing between the agent and xtquant's XtQuantTrader: bounded calls and the callback order book.

xtquant's synchronous calls wait on a future with no timeout, so a miniQMT that stops answering would hang
the agent for good. Every call goes through `bounded_call`, which gives up after a deadline; the caller then
treats miniQMT as gone and reconnects.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, TypeVar

from quantlink_terminal.executors.base import ExecutorUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

UNRESPONSIVE_FIX = (
    "Check that miniQMT is running, logged in and not frozen (restart it if its window does not respond); "
    "the agent reconnects by itself."
)


class Unresponsive(ExecutorUnavailable):
    """miniQMT did not answer in time: the connection is no longer trusted."""


def bounded_call(what: str, timeout: float, function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` on a helper thread, waited for at most `timeout` seconds. An exception from xtquant
    becomes ExecutorUnavailable; a call still running at the deadline is abandoned (its daemon thread ends
    when xtquant answers, or with the process)."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def call() -> None:
        try:
            box["value"] = function(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=call, name=f"xtquant-{what}", daemon=True).start()
    if not done.wait(timeout):
        raise Unresponsive(f"miniQMT did not answer {what} within {timeout:g} s", UNRESPONSIVE_FIX)
    if "error" in box:
        error = box["error"]
        log.debug("xtquant %s raised", what, exc_info=error)
        raise ExecutorUnavailable(f"xtquant {what} failed: {error!r}", UNRESPONSIVE_FIX) from error
    value: T = box["value"]
    return value


class OrderBook:
    """What xtquant's callback thread reported, by order id, for the thread that placed the order."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.orders: dict[int, Any] = {}
        self.trades: dict[int, list[tuple[int, float]]] = {}
        self.errors_by_order: dict[int, str] = {}
        self.errors_by_remark: dict[str, str] = {}
        self.disconnected = False

    def update(self, change: Callable[[], None]) -> None:
        with self._changed:
            change()
            self._changed.notify_all()

    def record_order(self, order: Any) -> None:
        self.update(lambda: self.orders.__setitem__(int(order.order_id), order))

    def wait(self, seconds: float) -> None:
        with self._changed:
            self._changed.wait(seconds)


def callback_class(base: Any) -> Any:
    """A subclass of xtquant's XtQuantTraderCallback (so callbacks we do not handle keep their no-op
    defaults) that forwards order events into an OrderBook."""

    class QuantLinkCallback(base):  # type: ignore[misc]
        def __init__(self, book: OrderBook) -> None:
            super().__init__()
            self._book = book

        def on_disconnected(self) -> None:
            log.error("miniQMT connection lost")
            self._book.update(lambda: setattr(self._book, "disconnected", True))

        def on_stock_order(self, order: Any) -> None:
            self._book.record_order(order)

        def on_stock_trade(self, trade: Any) -> None:
            fill = (int(trade.traded_volume), float(trade.traded_price))
            self._book.update(lambda: self._book.trades.setdefault(int(trade.order_id), []).append(fill))

        def on_order_error(self, order_error: Any) -> None:
            message = f"{order_error.error_msg} (error {order_error.error_id})"

            def record() -> None:
                self._book.errors_by_order[int(order_error.order_id)] = message
                remark = getattr(order_error, "order_remark", None)
                if remark:
                    self._book.errors_by_remark[str(remark)] = message

            self._book.update(record)

    return QuantLinkCallback
