"""The miniQMT executor: places orders through xtquant's XtQuantTrader and reads fills from its callbacks.

xtquant is not on PyPI under a stable name and only runs on Windows next to a logged-in miniQMT, so it is
imported lazily through an injectable module loader; tests load a fake with the same module layout.
"""

from __future__ import annotations

import importlib
import logging
import os
import random
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

from quantlink_terminal.clock import Clock, system_clock, to_iso
from quantlink_terminal.executors.base import AccountSnapshot, ExecutorUnavailable, Holding, OrderRequest
from quantlink_terminal.models import BUY, EXECUTED, FAILED, Outcome

log = logging.getLogger(__name__)

ModuleLoader = Callable[[str], ModuleType]

# xtconstant order statuses (委托状态). Named here so the code reads; values are xtquant's and stable.
ORDER_PART_CANCEL = 53  # 部撤: part filled, the rest cancelled
ORDER_CANCELED = 54  # 已撤
ORDER_SUCCEEDED = 56  # 已成
ORDER_JUNK = 57  # 废单: refused by the broker or the exchange
FINAL_STATUSES = frozenset({ORDER_PART_CANCEL, ORDER_CANCELED, ORDER_SUCCEEDED, ORDER_JUNK})

INSTALL_FIX = (
    "Install xtquant into the Python that runs the agent: `pip install xtquant`, or copy the `xtquant` "
    "folder from your QMT installation (bin.x64\\Lib\\site-packages) into this Python's site-packages."
)


@dataclass(frozen=True)
class QmtSettings:
    userdata_path: str  # miniQMT's userdata_mini folder
    account_id: str
    account_type: str = "STOCK"
    session_id: int | None = None  # None: a fresh random one per start, as xtquant needs per client
    order_timeout: float = 30.0  # how long to wait for a final order status before acking what is known
    strategy_name: str = "quantlink"


@dataclass(frozen=True)
class XtModules:
    xttrader: Any
    xttype: Any
    xtconstant: Any
    xtdata: Any | None


def load_xtquant(import_module: ModuleLoader = importlib.import_module) -> XtModules:
    try:
        xttrader = import_module("xtquant.xttrader")
        xttype = import_module("xtquant.xttype")
        xtconstant = import_module("xtquant.xtconstant")
    except ImportError as exc:
        raise ExecutorUnavailable(f"cannot import xtquant ({exc})", INSTALL_FIX) from exc
    try:
        xtdata: Any | None = import_module("xtquant.xtdata")
    except ImportError:
        xtdata = None  # quotes are a convenience for sizing market buys, not a requirement
    return XtModules(xttrader=xttrader, xttype=xttype, xtconstant=xtconstant, xtdata=xtdata)


class _OrderBook:
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


def _callback_class(base: Any) -> Any:
    """A subclass of xtquant's XtQuantTraderCallback (so callbacks we do not handle keep their no-op
    defaults) that forwards order events into an _OrderBook."""

    class QuantLinkCallback(base):  # type: ignore[misc]
        def __init__(self, book: _OrderBook) -> None:
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


class QmtExecutor:
    name = "xtquant"

    def __init__(
        self,
        settings: QmtSettings,
        load_modules: Callable[[], XtModules] = load_xtquant,
        clock: Clock = system_clock,
        poll_interval: float = 0.5,
    ) -> None:
        self._settings = settings
        self._load_modules = load_modules
        self._clock = clock
        self._poll_interval = poll_interval
        self._xt: XtModules | None = None
        self._trader: Any = None
        self._account: Any = None
        self._book = _OrderBook()

    # -- connection ---------------------------------------------------------------------------------

    def connect(self) -> None:
        xt = self._load_modules()
        path = self._settings.userdata_path
        if not os.path.isdir(path):
            raise ExecutorUnavailable(
                f"miniQMT userdata folder not found: {path}",
                "Set `userdata_path` to the `userdata_mini` folder inside your QMT installation, "
                "e.g. D:\\国金QMT交易端\\userdata_mini.",
            )
        self.close()  # a reconnect replaces the old client rather than leaving it running
        session_id = self._settings.session_id or random.randint(100000, 999999)
        self._book = _OrderBook()
        trader = xt.xttrader.XtQuantTrader(path, session_id)
        trader.register_callback(_callback_class(xt.xttrader.XtQuantTraderCallback)(self._book))
        trader.start()
        result = trader.connect()
        if result != 0:
            trader.stop()
            raise ExecutorUnavailable(
                f"XtQuantTrader.connect() returned {result}",
                "Start QMT in 极简模式 / 独立交易 (miniQMT), log in to your broker account, and check that "
                f"`userdata_path` ({path}) is that installation's userdata_mini folder.",
            )
        account = xt.xttype.StockAccount(self._settings.account_id, self._settings.account_type)
        result = trader.subscribe(account)
        if result != 0:
            trader.stop()
            raise ExecutorUnavailable(
                f"subscribing to account {self._settings.account_id} returned {result}",
                "Check `account_id` in the config: it must be the fund account logged in to miniQMT.",
            )
        self._xt, self._trader, self._account = xt, trader, account

    def close(self) -> None:
        if self._trader is not None:
            self._trader.stop()
            self._trader = None

    def _connected(self) -> tuple[XtModules, Any, Any]:
        if self._xt is None or self._trader is None or self._book.disconnected:
            raise ExecutorUnavailable(
                "not connected to miniQMT", "Check that miniQMT is running and logged in."
            )
        return self._xt, self._trader, self._account

    # -- reads --------------------------------------------------------------------------------------

    def account(self) -> AccountSnapshot:
        _, trader, account = self._connected()
        asset = trader.query_stock_asset(account)
        if asset is None:
            raise ExecutorUnavailable("miniQMT returned no account asset", "Check that miniQMT is logged in.")
        positions = trader.query_stock_positions(account)
        if positions is None:
            raise ExecutorUnavailable("miniQMT returned no positions", "Check that miniQMT is logged in.")
        holdings = {}
        for position in positions:
            volume = int(position.volume)
            holdings[str(position.stock_code)] = Holding(
                volume=volume,
                sellable=int(position.can_use_volume),
                avg_price=float(getattr(position, "avg_price", 0.0) or position.open_price),
                last_price=float(position.market_value) / volume if volume else None,
            )
        return AccountSnapshot(
            cash=float(asset.cash), total_asset=float(asset.total_asset), holdings=holdings
        )

    def last_price(self, security: str) -> float | None:
        xt, _, _ = self._connected()
        if xt.xtdata is None:
            return None
        try:
            tick = xt.xtdata.get_full_tick([security]).get(security) or {}
            price = float(tick.get("lastPrice") or 0)
        except Exception:  # a quote is best effort; sizing rejects a buy it cannot price
            log.warning("no quote for %s from xtdata", security, exc_info=True)
            return None
        return price or None

    def find_order(self, client_order_id: str) -> Outcome | None:
        _, trader, account = self._connected()
        orders = trader.query_stock_orders(account, False)
        if orders is None:
            # Not "no such order": a failed query must never lead to placing the order a second time.
            raise ExecutorUnavailable(
                "miniQMT did not answer the order query", "Check that miniQMT is logged in."
            )
        for order in orders:
            if str(order.order_remark) == client_order_id:
                return self._outcome(int(order.order_id), order)
        return None

    # -- orders -------------------------------------------------------------------------------------

    def price_type(self, order: OrderRequest) -> tuple[int, float]:
        """xtconstant price type and price: FIX_PRICE for limit orders; for market orders, best-five-then-
        cancel on the order's exchange (the price argument is ignored for market types)."""
        xt, _, _ = self._connected()
        constants = xt.xtconstant
        if order.limit_price is not None:
            return int(constants.FIX_PRICE), float(order.limit_price)
        if order.security.endswith(".SH"):
            return int(constants.MARKET_SH_CONVERT_5_CANCEL), 0.0
        # Shenzhen and Beijing share the SZ market price type.
        return int(constants.MARKET_SZ_CONVERT_5_CANCEL), 0.0

    def place(self, order: OrderRequest) -> Outcome:
        xt, trader, account = self._connected()
        side = xt.xtconstant.STOCK_BUY if order.side == BUY else xt.xtconstant.STOCK_SELL
        price_type, price = self.price_type(order)
        order_id = trader.order_stock(
            account,
            order.security,
            side,
            order.volume,
            price_type,
            price,
            self._settings.strategy_name,
            order.client_order_id,
        )
        if order_id is None or int(order_id) < 0:
            return Outcome(status=FAILED, error="broker refused the order: " + self._refusal(order))
        return self._outcome(int(order_id), self._wait_for_final(int(order_id)))

    def _refusal(self, order: OrderRequest) -> str:
        """order_stock returned -1; the reason arrives (if at all) through on_order_error."""
        deadline = time.monotonic() + min(self._settings.order_timeout, 3.0)
        while order.client_order_id not in self._book.errors_by_remark and time.monotonic() < deadline:
            self._book.wait(0.1)
        return self._book.errors_by_remark.get(order.client_order_id, "order_stock returned -1")

    def _wait_for_final(self, order_id: int) -> Any:
        """The order's last known state once final, or at the timeout. Callbacks do the work; a periodic
        query covers a callback that never comes."""
        _, trader, account = self._connected()
        deadline = time.monotonic() + self._settings.order_timeout
        while True:
            order = self._book.orders.get(order_id)
            if order_id in self._book.errors_by_order or (
                order is not None and order.order_status in FINAL_STATUSES
            ):
                return order
            if self._book.disconnected:
                raise ExecutorUnavailable(
                    "miniQMT disconnected while an order was open",
                    "Restart miniQMT; the agent reconciles the order when it reconnects.",
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return order
            self._book.wait(min(remaining, self._poll_interval))
            queried = trader.query_stock_order(account, order_id)
            if queried is not None:
                self._book.record_order(queried)

    def _outcome(self, order_id: int, order: Any) -> Outcome:
        """Map the order's last known state (None: none seen yet) to the ack."""
        broker_order_id = str(order_id)
        error = self._book.errors_by_order.get(order_id)
        status = None if order is None else int(order.order_status)
        if error is not None or status == ORDER_JUNK:
            broker_message = (order.status_msg if order is not None else "") or error
            return Outcome(
                status=FAILED,
                broker_order_id=broker_order_id,
                filled=0,
                error=f"broker rejected the order (废单): {broker_message}",
            )
        fills = self._book.trades.get(order_id, [])
        filled = (int(order.traded_volume) if order is not None else 0) or sum(v for v, _ in fills)
        avg_price = (float(order.traded_price) if order is not None else 0.0) or _average(fills)
        if status == ORDER_CANCELED and filled == 0:
            return Outcome(
                status=FAILED,
                broker_order_id=broker_order_id,
                filled=0,
                error=f"cancelled with nothing filled: {order.status_msg or 'no counterparty'}",
            )
        still_open = None
        if status not in FINAL_STATUSES:
            # A resting limit order: it is placed, so the signal is executed; say what is known so far.
            still_open = (
                f"order still open at the broker (status {status}) after "
                f"{self._settings.order_timeout:.0f} s; {filled} filled so far"
            )
        return Outcome(
            status=EXECUTED,
            broker_order_id=broker_order_id,
            filled=filled,
            avg_price=round(avg_price, 4) or None,
            executed_at=to_iso(self._clock()),
            error=still_open,
        )


def _average(fills: list[tuple[int, float]]) -> float:
    volume = sum(v for v, _ in fills)
    return sum(v * p for v, p in fills) / volume if volume else 0.0
