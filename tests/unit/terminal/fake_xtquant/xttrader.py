"""XtQuantTrader and XtQuantTraderCallback over a scripted broker counter (BROKER).

Like the real client, order events reach the callback from another thread, after order_stock returns an id.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from . import xtconstant
from .xttype import StockAccount, XtAsset, XtOrder, XtOrderError, XtPosition, XtTrade

FILL = "fill"  # reported, then filled in full
PARTIAL = "partial"  # `volume` filled, the rest cancelled (部撤)
JUNK = "junk"  # reported, then 废单 with `message`
REFUSE = "refuse"  # order_stock returns -1; on_order_error carries `message`
CANCEL = "cancel"  # cancelled with nothing filled
OPEN = "open"  # reported and left resting
SILENT_FILL = "silent_fill"  # filled, but no callback ever comes: only a query shows it


@dataclass
class Reaction:
    kind: str = FILL
    message: str = ""
    volume: int = 0


@dataclass
class Broker:
    connect_result: int = 0
    subscribe_result: int = 0
    cash: float = 1_000_000.0
    positions: dict[str, XtPosition] = field(default_factory=dict)
    orders: list[XtOrder] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)  # one per order_stock call; default FILL
    quotes: dict[str, float] = field(default_factory=dict)
    placed: list[dict[str, Any]] = field(default_factory=list)  # every order_stock call's arguments
    traders: list[XtQuantTrader] = field(default_factory=list)
    next_order_id: int = 1001

    def hold(self, code: str, volume: int, sellable: int, price: float) -> None:
        self.positions[code] = XtPosition("acct", code, volume, sellable, price, volume * price, price)


BROKER = Broker()


class XtQuantTraderCallback:
    def on_connected(self) -> None: ...

    def on_disconnected(self) -> None: ...

    def on_account_status(self, status: Any) -> None: ...

    def on_stock_asset(self, asset: Any) -> None: ...

    def on_stock_order(self, order: Any) -> None: ...

    def on_stock_trade(self, trade: Any) -> None: ...

    def on_stock_position(self, position: Any) -> None: ...

    def on_order_error(self, order_error: Any) -> None: ...

    def on_cancel_error(self, cancel_error: Any) -> None: ...

    def on_order_stock_async_response(self, response: Any) -> None: ...


class XtQuantTrader:
    def __init__(self, path: str, session: int) -> None:
        self.path = path
        self.session = session
        self.callback: XtQuantTraderCallback | None = None
        self.started = False
        self.stopped = False
        BROKER.traders.append(self)

    def register_callback(self, callback: XtQuantTraderCallback) -> None:
        self.callback = callback

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def connect(self) -> int:
        return BROKER.connect_result

    def subscribe(self, account: StockAccount) -> int:
        return BROKER.subscribe_result

    # -- queries ------------------------------------------------------------------------------------

    def query_stock_asset(self, account: StockAccount) -> XtAsset:
        market_value = sum(p.market_value for p in BROKER.positions.values())
        return XtAsset(account.account_id, BROKER.cash, 0.0, market_value, BROKER.cash + market_value)

    def query_stock_positions(self, account: StockAccount) -> list[XtPosition]:
        return [replace(p) for p in BROKER.positions.values()]

    def query_stock_orders(self, account: StockAccount, cancelable_only: bool = False) -> list[XtOrder]:
        return [replace(o) for o in BROKER.orders]

    def query_stock_order(self, account: StockAccount, order_id: int) -> XtOrder | None:
        return next((replace(o) for o in BROKER.orders if o.order_id == order_id), None)

    # -- orders -------------------------------------------------------------------------------------

    def order_stock(
        self,
        account: StockAccount,
        stock_code: str,
        order_type: int,
        order_volume: int,
        price_type: int,
        price: float,
        strategy_name: str = "",
        order_remark: str = "",
    ) -> int:
        BROKER.placed.append(
            {
                "stock_code": stock_code,
                "order_type": order_type,
                "order_volume": order_volume,
                "price_type": price_type,
                "price": price,
                "strategy_name": strategy_name,
                "order_remark": order_remark,
            }
        )
        reaction = BROKER.reactions.pop(0) if BROKER.reactions else Reaction()
        if reaction.kind == REFUSE:
            error = XtOrderError(account.account_id, -1, -61, reaction.message, strategy_name, order_remark)
            self._deliver(lambda cb: cb.on_order_error(error))
            return -1
        order_id = BROKER.next_order_id
        BROKER.next_order_id += 1
        order = XtOrder(
            account.account_id,
            stock_code,
            order_id,
            f"SYS{order_id}",
            0,
            order_type,
            order_volume,
            price_type,
            price,
            0,
            0.0,
            xtconstant.ORDER_REPORTED,
            "",
            strategy_name,
            order_remark,
        )
        BROKER.orders.append(order)
        fill_price = price if price_type == xtconstant.FIX_PRICE else BROKER.quotes.get(stock_code, 10.0)
        reported = replace(order)
        events: list[Any] = [lambda cb: cb.on_stock_order(reported)]
        if reaction.kind in (FILL, PARTIAL, SILENT_FILL):
            volume = order_volume if reaction.kind != PARTIAL else reaction.volume
            trade = self._fill(order, volume, fill_price)
            order.order_status = (
                xtconstant.ORDER_PART_CANCEL if reaction.kind == PARTIAL else xtconstant.ORDER_SUCCEEDED
            )
            filled = replace(order)
            events += [lambda cb: cb.on_stock_trade(trade), lambda cb: cb.on_stock_order(filled)]
            if reaction.kind == SILENT_FILL:
                events = []
        elif reaction.kind in (JUNK, CANCEL):
            order.order_status = xtconstant.ORDER_JUNK if reaction.kind == JUNK else xtconstant.ORDER_CANCELED
            order.status_msg = reaction.message
            finished = replace(order)
            events.append(lambda cb: cb.on_stock_order(finished))
        for event in events:
            self._deliver(event)
        return order_id

    def _fill(self, order: XtOrder, volume: int, price: float) -> XtTrade:
        order.traded_volume, order.traded_price = volume, price
        held = BROKER.positions.get(order.stock_code)
        if order.order_type == xtconstant.STOCK_BUY:
            BROKER.cash -= volume * price
            if held is None:
                BROKER.hold(order.stock_code, volume, 0, price)  # T+1: nothing sellable today
            else:
                held.volume += volume
                held.market_value = held.volume * price
        elif held is not None:
            BROKER.cash += volume * price
            held.volume -= volume
            held.can_use_volume -= volume
            held.market_value = held.volume * price
        return XtTrade(
            order.account_id,
            order.stock_code,
            order.order_type,
            f"T{order.order_id}",
            0,
            price,
            volume,
            volume * price,
            order.order_id,
            order.order_sysid,
            order.strategy_name,
            order.order_remark,
        )

    def _deliver(self, event: Any) -> None:
        """Callbacks run on another thread, in order, as xtquant's do."""
        callback = self.callback
        if callback is None:
            return
        thread = threading.Thread(target=event, args=(callback,), daemon=True)
        thread.start()
        thread.join()  # keep per-order event order; the caller still sees them arrive from another thread
