"""The miniQMT executor: places orders through xtquant's XtQuantTrader and reads fills from its callbacks.

xtquant only runs on Windows next to a logged-in miniQMT, so it is imported lazily through an injectable
module loader; the tests run the vendor's own xttrader/xttype/xtconstant over a stand-in native client.
Semantics follow the vendor's xttrader.md: an order id > 0 is a placed order; a list query answering None
means "failed, or nothing today"; market price types differ by exchange.
"""

from __future__ import annotations

import importlib
import logging
import os
import random
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

from quantlink_terminal.clock import Clock, system_clock, to_iso
from quantlink_terminal.executors.base import (
    AccountSnapshot,
    ExecutorUnavailable,
    Holding,
    OrderRequest,
    OrderStateUnknown,
)
from quantlink_terminal.executors.xtcalls import OrderBook, Unresponsive, bounded_call, callback_class
from quantlink_terminal.executors.xtorders import FINAL_STATUSES, order_outcome
from quantlink_terminal.models import BUY, FAILED, Outcome
from quantlink_terminal.reasons import Reason

log = logging.getLogger(__name__)

ModuleLoader = Callable[[str], ModuleType]

# The account types the agent trades (xtconstant.ACCOUNT_TYPE_DICT names). It places cash-account stock
# orders (STOCK_BUY / STOCK_SELL), which a credit or futures account would refuse.
ACCOUNT_TYPES = ("STOCK",)

INSTALL_FIX = (
    "Install xtquant into the Python that runs the agent: `pip install xtquant`, or copy the `xtquant` "
    "folder from your QMT installation (bin.x64\\Lib\\site-packages) into this Python's site-packages."
)
LOGGED_IN_FIX = "Check that miniQMT is running and logged in."


@dataclass(frozen=True)
class QmtSettings:
    userdata_path: str  # miniQMT's userdata_mini folder
    account_id: str
    account_type: str = "STOCK"
    session_id: int | None = None  # None: a fresh random one per start, as xtquant needs per client
    order_timeout: float = 30.0  # how long to wait for a final order status before acking what is known
    call_timeout: float = 10.0  # the longest wait for any one answer from miniQMT before reconnecting
    strategy_name: str = "quantlink"
    query_attempts: int = 3  # a list query answering None is asked again this often before deciding
    query_retry_delay: float = 0.5


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
        self._book = OrderBook()

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
        book = OrderBook()
        trader = xt.xttrader.XtQuantTrader(path, session_id)
        started = False
        try:
            trader.register_callback(callback_class(xt.xttrader.XtQuantTraderCallback)(book))
            self._call("start", trader.start)
            started = True
            # xtquant's own deadline for its synchronous calls, in milliseconds (the docs give no unit; a
            # millisecond value is harmless if it were seconds); the bounded wait is the backstop.
            self._call("set_timeout", trader.set_timeout, int(self._settings.call_timeout * 1000))
            result = self._call("connect", trader.connect)
            if result != 0:
                raise ExecutorUnavailable(
                    f"XtQuantTrader.connect() returned {result}",
                    "Start QMT in 极简模式 / 独立交易 (miniQMT), log in to your broker account, and check "
                    f"that `userdata_path` ({path}) is that installation's userdata_mini folder.",
                )
            try:
                account = xt.xttype.StockAccount(self._settings.account_id, self._settings.account_type)
            except Exception as exc:  # xttype raises a bare Exception for an account type it does not know
                raise ExecutorUnavailable(
                    f"xtquant refused account {self._settings.account_id} of type "
                    f"{self._settings.account_type!r}: {exc}",
                    'Set `account_type = "STOCK"` in [xtquant] (the agent trades cash stock accounts).',
                ) from exc
            result = self._call("subscribe", trader.subscribe, account)
            if result != 0:
                raise ExecutorUnavailable(
                    f"subscribing to account {self._settings.account_id} returned {result}",
                    "Check `account_id` in the config: it must be the fund account logged in to miniQMT.",
                )
        except BaseException:
            self._stop(trader, started)  # every failed connect releases its client
            raise
        self._xt, self._trader, self._account, self._book = xt, trader, account, book

    def close(self) -> None:
        trader, self._trader = self._trader, None
        if trader is not None:
            self._stop(trader, started=True)

    def _stop(self, trader: Any, started: bool) -> None:
        if not started:
            return  # xttrader's stop() needs the threads that start() creates
        try:
            self._call("stop", trader.stop)
        except ExecutorUnavailable as exc:
            log.warning("could not stop the xtquant client cleanly: %s", exc)

    def _call(self, what: str, function: Callable[..., Any], *args: Any) -> Any:
        try:
            return bounded_call(what, self._settings.call_timeout, function, *args)
        except Unresponsive:
            self._book.update(lambda: setattr(self._book, "disconnected", True))  # reconnect before reuse
            raise

    def _connected(self) -> tuple[XtModules, Any, Any]:
        if self._xt is None or self._trader is None or self._book.disconnected:
            raise ExecutorUnavailable("not connected to miniQMT", LOGGED_IN_FIX)
        return self._xt, self._trader, self._account

    # -- reads --------------------------------------------------------------------------------------

    def _query_list(self, what: str, function: Callable[..., Any], *args: Any) -> list[Any] | None:
        """A list query's answer, asked again while it answers None (which means failed *or* empty)."""
        for attempt in range(self._settings.query_attempts):
            if attempt:
                time.sleep(self._settings.query_retry_delay)
            answer = self._call(what, function, *args)
            if answer is not None:
                return list(answer)
        return None

    def account(self) -> AccountSnapshot:
        _, trader, account = self._connected()
        asset = self._call("query_stock_asset", trader.query_stock_asset, account)
        if asset is None:  # the vendor doc: None is a failed query
            raise ExecutorUnavailable("miniQMT returned no account asset", LOGGED_IN_FIX)
        positions = self._query_list("query_stock_positions", trader.query_stock_positions, account)
        if positions is None:
            # None is "failed, or no positions today"; an account holding nothing has no market value.
            if float(asset.market_value or 0) > 0:
                raise ExecutorUnavailable(
                    f"miniQMT listed no positions although the account holds {asset.market_value} in "
                    "securities",
                    LOGGED_IN_FIX,
                )
            positions = []
        holdings = {}
        for position in positions:
            volume = int(position.volume)
            if volume <= 0:
                continue
            holdings[str(position.stock_code)] = Holding(
                volume=volume,
                sellable=int(position.can_use_volume),
                avg_price=float(getattr(position, "avg_price", 0.0) or position.open_price),
                last_price=float(position.market_value) / volume,
            )
        return AccountSnapshot(
            cash=float(asset.cash), total_asset=float(asset.total_asset), holdings=holdings
        )

    def last_price(self, security: str) -> float | None:
        xt, _, _ = self._connected()
        if xt.xtdata is None:
            return None
        try:
            tick = self._call("get_full_tick", xt.xtdata.get_full_tick, [security]).get(security) or {}
            price = float(tick.get("lastPrice") or 0)
        except (ExecutorUnavailable, AttributeError, TypeError, ValueError):
            # A quote is best effort; sizing rejects a buy it cannot price.
            log.warning("no quote for %s from xtdata", security, exc_info=True)
            return None
        return price or None

    def refuses(self, security: str) -> Reason | None:
        """Every A-share market (SH, SZ, BJ) is tradable here."""
        return None

    def find_order(self, client_order_id: str) -> Outcome | None:
        _, trader, account = self._connected()
        orders = self._query_list("query_stock_orders", trader.query_stock_orders, account, False)
        if orders is None:
            # "Failed, or no orders today": either way it proves nothing, and a guess could double an order.
            raise OrderStateUnknown(
                f"miniQMT's order list answered None {self._settings.query_attempts} times "
                "(the vendor's answer for a failed query and for no orders today alike)"
            )
        for order in orders:
            if str(order.order_remark) == client_order_id:
                return self._outcome(int(order.order_id), order)
        return None

    # -- orders -------------------------------------------------------------------------------------

    def price_type(self, order: OrderRequest) -> tuple[int, float] | None:
        """xtconstant price type and price: FIX_PRICE for limit orders; for market orders, best-five-then-
        cancel of the order's exchange (xttrader.md: the SH type for Shanghai and Beijing, the SZ type for
        Shenzhen; the price is ignored). None for an exchange xtquant has no such type for."""
        xt, _, _ = self._connected()
        constants = xt.xtconstant
        if order.limit_price is not None:
            return int(constants.FIX_PRICE), float(order.limit_price)
        if order.security.endswith((".SH", ".BJ")):
            return int(constants.MARKET_SH_CONVERT_5_CANCEL), 0.0
        if order.security.endswith(".SZ"):
            return int(constants.MARKET_SZ_CONVERT_5_CANCEL), 0.0
        return None

    def place(self, order: OrderRequest) -> Outcome:
        xt, trader, account = self._connected()
        side = xt.xtconstant.STOCK_BUY if order.side == BUY else xt.xtconstant.STOCK_SELL
        priced = self.price_type(order)
        if priced is None:
            return Outcome.refused(
                FAILED,
                Reason(
                    "broker.market_unsupported",
                    f"no market order type for {order.security}; ask the strategy owner for a limit order",
                    f"{order.security} 不支持市价委托，请策略作者改用限价单",
                ),
            )
        price_type, price = priced
        # An exception or a timeout here leaves the journal in "placing": the redelivery reconciles by remark.
        order_id = self._call(
            "order_stock",
            trader.order_stock,
            account,
            order.security,
            int(side),
            int(order.volume),
            price_type,
            price,
            self._settings.strategy_name,
            order.client_order_id,
        )
        if order_id is None or int(order_id) <= 0:  # the vendor doc: an order id > 0 is a placed order
            message = self._refusal(order, order_id)
            return Outcome.refused(
                FAILED,
                Reason("broker.refused", f"broker refused the order: {message}", f"券商拒绝委托：{message}"),
            )
        return self._outcome(int(order_id), self._wait_for_final(int(order_id)))

    def _refusal(self, order: OrderRequest, order_id: Any) -> str:
        """order_stock returned no order; the reason arrives (if at all) through on_order_error."""
        deadline = time.monotonic() + min(self._settings.order_timeout, 3.0)
        while order.client_order_id not in self._book.errors_by_remark and time.monotonic() < deadline:
            self._book.wait(0.1)
        return self._book.errors_by_remark.get(order.client_order_id, f"order_stock returned {order_id}")

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
            queried = self._call("query_stock_order", trader.query_stock_order, account, order_id)
            if queried is not None:
                self._book.record_order(queried)

    def _outcome(self, order_id: int, order: Any) -> Outcome:
        return order_outcome(self._book, order_id, order, self._settings.order_timeout, to_iso(self._clock()))
