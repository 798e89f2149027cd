"""A stand-in for xtquant's Windows-only native module `xtpythonclient`, under the vendor's own pure-Python
xttrader.py / xttype.py / xtconstant.py (loaded unchanged from the PyPI wheel by the `real_xtquant` fixture).

It behaves like the native client the way xttrader uses it:
- request structs with typed fields (an int field refuses a float or a string, a string field refuses an
  int, unknown fields do not exist), and a client that takes the userdata path as bytes;
- every answer and push comes from the client's own thread, after the call returned;
- an order's response comes first, and error callbacks after it;
- list queries answer None when the list is empty (xttrader.md: "None表示查询失败或者当日…为空");
- `COUNTER.answering = False` is a miniQMT that never answers (calls block, nothing comes back);
- a broker counter behind it that junks what an exchange would (price type per market, price off the
  tick, lots, odd-lot sells, cash short of value plus fees).

Registered as `xtquant.xtpythonclient` in sys.modules; tests script and inspect `COUNTER`.
"""

from __future__ import annotations

import copy
import itertools
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

STOCK_BUY, STOCK_SELL = 23, 24
FIX_PRICE, LATEST_PRICE = 11, 5
MARKET_TYPES = {"SH": {42, 43, 44, 45}, "BJ": {42, 43, 44, 45}, "SZ": {44, 45, 46, 47, 48}}
ORDER_REPORTED, ORDER_PART_CANCEL, ORDER_CANCELED, ORDER_SUCCEEDED, ORDER_JUNK = 50, 53, 54, 56, 57

FILL = "fill"  # reported, then filled in full
PARTIAL = "partial"  # `volume` filled, the rest cancelled (部撤)
JUNK = "junk"  # reported, then 废单 with `message`
REFUSE = "refuse"  # the response carries order id -1; on_order_error with `message` follows it
ERROR_AFTER_ACCEPT = "error_after_accept"  # a positive order id, then on_order_error (no order push)
ZERO_ID = "zero_id"  # the response carries order id 0 and nothing else happens
CANCEL = "cancel"  # cancelled with nothing filled
OPEN = "open"  # reported and left resting
SILENT_FILL = "silent_fill"  # filled, but no push ever comes: only a query shows it


# -- typed request structs (what pybind-style native bindings enforce) ----------------------------------


class _Struct:
    _fields: ClassVar[dict[str, type]] = {}

    def __init__(self) -> None:
        defaults = {int: 0, float: 0.0, str: "", bool: False}
        for name, kind in self._fields.items():
            object.__setattr__(self, name, defaults[kind])

    def __setattr__(self, name: str, value: Any) -> None:
        kind = self._fields.get(name)
        if kind is None:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}")
        ok = {
            int: isinstance(value, int) and not isinstance(value, bool),
            float: isinstance(value, (int, float)) and not isinstance(value, bool),
            str: isinstance(value, str),
            bool: isinstance(value, bool),
        }[kind]
        if not ok:
            raise TypeError(f"{type(self).__name__}.{name}: incompatible type {type(value).__name__} ({value!r})")
        object.__setattr__(self, name, value)


_ACCOUNT = {"m_nAccountType": int, "m_strAccountID": str}


class SubscribeReq(_Struct):
    _fields: ClassVar[dict[str, type]] = dict(_ACCOUNT)


class UnsubscribeReq(_Struct):
    _fields: ClassVar[dict[str, type]] = dict(_ACCOUNT)


class QueryStockAssetReq(_Struct):
    _fields: ClassVar[dict[str, type]] = dict(_ACCOUNT)


class QueryStockTradesReq(_Struct):
    _fields: ClassVar[dict[str, type]] = dict(_ACCOUNT)


class QueryStockOrdersReq(_Struct):
    _fields: ClassVar[dict[str, type]] = {**_ACCOUNT, "m_nOrderID": int, "m_bCanCancel": bool}


class QueryStockPositionsReq(_Struct):
    _fields: ClassVar[dict[str, type]] = {**_ACCOUNT, "m_strStockCode": str, "m_strStockCode1": str}


class CancelOrderStockReq(_Struct):
    _fields: ClassVar[dict[str, type]] = {**_ACCOUNT, "m_nOrderID": int}


class OrderStockReq(_Struct):
    _fields: ClassVar[dict[str, type]] = {
        **_ACCOUNT,
        "m_strStockCode": str,
        "m_nOrderType": int,
        "m_nOrderVolume": int,
        "m_nPriceType": int,
        "m_dPrice": float,
        "m_strStrategyName": str,
        "m_strOrderRemark": str,
        "m_strOrderRemarkNew": str,
        "m_dOrderAmount": float,
        "m_strStockCode1": str,
        "m_strAccountID1": str,
    }


class OrderStockResp:
    """The native order response, with the native field names xttrader reads."""

    def __init__(self, account_id: str, order_id: int, strategy_name: str, remark: str, error: str) -> None:
        self.m_strAccountID = account_id
        self.m_nOrderID = order_id
        self.m_strStrategyName = strategy_name
        self.m_strOrderRemark = remark
        self.m_strErrorMsg = error


# -- the broker counter -------------------------------------------------------------------------------


@dataclass
class Reaction:
    kind: str = FILL
    message: str = ""
    volume: int = 0


@dataclass
class Holding:
    volume: int
    can_use: int
    avg_price: float
    last_price: float


@dataclass
class Counter:
    connect_result: int = 0
    subscribe_result: int = 0
    cash: float = 1_000_000.0
    commission_rate: float = 0.00025
    min_commission: float = 5.0
    positions: dict[str, Holding] = field(default_factory=dict)
    orders: list[Any] = field(default_factory=list)  # xttype.XtOrder, the broker's own copies
    reactions: list[Reaction] = field(default_factory=list)  # one per order; default FILL
    quotes: dict[str, float] = field(default_factory=dict)
    placed: list[dict[str, Any]] = field(default_factory=list)  # every OrderStockReq, as sent
    clients: list[XtQuantAsyncClient] = field(default_factory=list)
    answering: bool = True  # False: a miniQMT that never answers again
    failing_queries: set[str] = field(default_factory=set)  # "orders"/"positions": answer None though not empty
    next_order_id: int = 1001
    released: threading.Event = field(default_factory=threading.Event)  # set at teardown: blocked calls end

    def hold(self, code: str, volume: int, sellable: int, price: float) -> None:
        self.positions[code] = Holding(volume, sellable, price, price)

    def market_value(self) -> float:
        return sum(h.volume * h.last_price for h in self.positions.values())


COUNTER = Counter()


def _xttype() -> Any:
    from xtquant import xttype  # the vendor's, imported by xttrader before any answer is made

    return xttype


def _tick(code: str) -> Decimal:
    number, _, market = code.partition(".")
    fund = (market == "SH" and number.startswith(("5", "11"))) or (
        market == "SZ" and number.startswith(("15", "16", "18", "12"))
    )
    return Decimal("0.001") if fund else Decimal("0.01")


def _fee(value: float) -> float:
    return max(COUNTER.min_commission, value * COUNTER.commission_rate) + value * 0.00001


def _exchange_refusal(req: OrderStockReq) -> str | None:
    """What the counter or the exchange junks this order for, or None."""
    code, market = req.m_strStockCode, req.m_strStockCode.partition(".")[2]
    if req.m_nPriceType not in (FIX_PRICE, LATEST_PRICE) and req.m_nPriceType not in MARKET_TYPES.get(market, ()):
        return f"[COUNTER] 报价类型 {req.m_nPriceType} 不适用于该市场 ({code})"
    if req.m_nPriceType == FIX_PRICE:
        steps = Decimal(repr(req.m_dPrice)) / _tick(code)
        if req.m_dPrice <= 0 or steps != steps.to_integral_value():
            return f"[COUNTER] 委托价格 {req.m_dPrice} 不符合最小价格变动单位"
    volume = req.m_nOrderVolume
    star_or_bj = market == "BJ" or code.startswith(("688", "689"))
    minimum = 200 if code.startswith(("688", "689")) else 100
    if req.m_nOrderType == STOCK_BUY:
        if volume < minimum or (not star_or_bj and volume % 100):
            return f"[COUNTER] 买入数量 {volume} 不符合交易单位"
        price = req.m_dPrice if req.m_nPriceType == FIX_PRICE else COUNTER.quotes.get(code, 10.0)
        if COUNTER.cash < volume * price + _fee(volume * price) - 1e-6:
            return "[COUNTER] 可用资金不足"
        return None
    held = COUNTER.positions.get(code)
    sellable = held.can_use if held else 0
    if volume > sellable:
        return "[COUNTER] 证券可用数量不足"
    odd = sellable % 100 if not star_or_bj else 0
    whole_lots_plus_odd = volume % 100 in (0, odd) if not star_or_bj else volume >= minimum
    if volume != sellable and not whole_lots_plus_odd:
        return "[COUNTER] 零股须一次性申报卖出"
    return None


class XtQuantAsyncClient:
    def __init__(self, path: bytes, name: str, session: int) -> None:
        if not isinstance(path, bytes) or not isinstance(name, str) or not isinstance(session, int):
            raise TypeError("XtQuantAsyncClient(path: bytes, name: str, session: int)")
        self.path, self.session = path.decode("gb18030"), session
        self.bound: dict[str, Callable[..., Any]] = {}
        self.timeout_ms: int | None = None
        self.started = self.stopped = False
        self._seq = itertools.count(1)
        self._inbox: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="xtpythonclient", daemon=True)
        COUNTER.clients.append(self)

    def __getattr__(self, name: str) -> Callable[[Callable[..., Any]], None]:
        if not name.startswith("bindOn"):
            raise AttributeError(name)

        def bind(callback: Callable[..., Any]) -> None:
            self.bound[name] = callback

        return bind

    # -- lifecycle ----------------------------------------------------------------------------------

    def init(self) -> None: ...

    def start(self) -> None:
        self.started = True
        self._thread.start()

    def stop(self) -> None:
        self.stopped = True
        self._inbox.put(None)

    def connect(self) -> int:
        self._block_if_silent()
        return COUNTER.connect_result

    def setTimeout(self, timeout: int) -> None:
        if not isinstance(timeout, int):
            raise TypeError("setTimeout(timeout: int)")
        self.timeout_ms = timeout

    def nextSeq(self) -> int:
        return next(self._seq)

    def _block_if_silent(self) -> None:
        if not COUNTER.answering:
            COUNTER.released.wait()

    def _serve(self) -> None:
        while True:
            job = self._inbox.get()
            if job is None:
                return
            job()

    def _later(self, job: Callable[[], None]) -> None:
        """Answer from this client's own thread, after the call returned; never, while not answering."""
        if COUNTER.answering:
            self._inbox.put(job)

    def _answer(self, binder: str, seq: int, value: Any) -> None:
        self._later(lambda: self.bound[binder](seq, value))

    def _push(self, binder: str, value: Any) -> None:
        self._later(lambda: self.bound[binder](value))

    # -- requests -----------------------------------------------------------------------------------

    def subscribeWithSeq(self, seq: int, req: SubscribeReq) -> None:
        assert isinstance(req, SubscribeReq)
        self._answer("bindOnSubscribeRespCallback", seq, COUNTER.subscribe_result)

    def unsubscribeWithSeq(self, seq: int, req: UnsubscribeReq) -> None:
        self._answer("bindOnUnsubscribeRespCallback", seq, 0)

    def queryStockAssetWithSeq(self, seq: int, req: QueryStockAssetReq) -> None:
        assert isinstance(req, QueryStockAssetReq)
        market_value = COUNTER.market_value()
        asset = _xttype().XtAsset(
            req.m_strAccountID, COUNTER.cash, 0.0, market_value, COUNTER.cash + market_value, COUNTER.cash
        )
        self._answer("bindOnQueryStockAssetCallback", seq, [asset])

    def queryStockPositionsWithSeq(self, seq: int, req: QueryStockPositionsReq) -> None:
        assert isinstance(req, QueryStockPositionsReq)
        xttype = _xttype()
        rows = [
            xttype.XtPosition(
                req.m_strAccountID, code, h.volume, h.can_use, h.avg_price, h.volume * h.last_price,
                0, 0, h.can_use, h.avg_price, 48, h.last_price, 0.0, "A000001", code,
            )
            for code, h in COUNTER.positions.items()
            if not req.m_strStockCode or code == req.m_strStockCode
        ]  # fmt: skip
        failing = "positions" in COUNTER.failing_queries
        self._answer("bindOnQueryStockPositionsCallback", seq, None if failing or not rows else rows)

    def queryStockOrdersWithSeq(self, seq: int, req: QueryStockOrdersReq) -> None:
        assert isinstance(req, QueryStockOrdersReq)
        rows = [copy.copy(o) for o in COUNTER.orders if not req.m_nOrderID or o.order_id == req.m_nOrderID]
        failing = "orders" in COUNTER.failing_queries
        self._answer("bindOnQueryStockOrdersCallback", seq, None if failing or not rows else rows)

    def queryStockTradesWithSeq(self, seq: int, req: QueryStockTradesReq) -> None:
        self._answer("bindOnQueryStockTradesCallback", seq, None)

    def orderStockWithSeq(self, seq: int, req: OrderStockReq) -> None:
        assert isinstance(req, OrderStockReq)
        COUNTER.placed.append({name: getattr(req, name) for name in OrderStockReq._fields})
        reaction = COUNTER.reactions.pop(0) if COUNTER.reactions else Reaction()
        refusal = _exchange_refusal(req)
        if refusal is not None:
            reaction = Reaction(JUNK, refusal)
        if reaction.kind in (REFUSE, ZERO_ID):
            self._respond(seq, req, -1 if reaction.kind == REFUSE else 0)
            if reaction.kind == REFUSE:
                self._order_error(seq, req, -1, reaction.message)
            return
        order_id = COUNTER.next_order_id
        COUNTER.next_order_id += 1
        self._respond(seq, req, order_id)
        if reaction.kind == ERROR_AFTER_ACCEPT:
            self._order_error(seq, req, order_id, reaction.message)
            return
        order = _xttype().XtOrder(
            req.m_strAccountID, req.m_strStockCode, order_id, f"SYS{order_id}", 0, req.m_nOrderType,
            req.m_nOrderVolume, req.m_nPriceType, req.m_dPrice, 0, 0.0, ORDER_REPORTED, "",
            req.m_strStrategyName, req.m_strOrderRemark, 48, req.m_nOrderType, "A000001", req.m_strStockCode,
        )  # fmt: skip
        COUNTER.orders.append(order)
        silent = reaction.kind == SILENT_FILL
        if not silent:
            self._push("bindOnStockOrderCallback", copy.copy(order))
        if reaction.kind in (FILL, PARTIAL, SILENT_FILL):
            volume = reaction.volume if reaction.kind == PARTIAL else req.m_nOrderVolume
            trade = self._fill(order, volume)
            order.order_status = ORDER_PART_CANCEL if reaction.kind == PARTIAL else ORDER_SUCCEEDED
            if not silent:
                self._push("bindOnStockTradeCallback", trade)
                self._push("bindOnStockOrderCallback", copy.copy(order))
        elif reaction.kind in (JUNK, CANCEL):
            order.order_status = ORDER_JUNK if reaction.kind == JUNK else ORDER_CANCELED
            order.status_msg = reaction.message
            self._push("bindOnStockOrderCallback", copy.copy(order))

    def _respond(self, seq: int, req: OrderStockReq, order_id: int) -> None:
        response = OrderStockResp(req.m_strAccountID, order_id, req.m_strStrategyName, req.m_strOrderRemark, "")
        self._answer("bindOnOrderStockRespCallback", seq, response)

    def _order_error(self, seq: int, req: OrderStockReq, order_id: int, message: str) -> None:
        error = _xttype().XtOrderError(
            req.m_strAccountID, order_id, -61, message, req.m_strStrategyName, req.m_strOrderRemark
        )
        error.seq = seq  # the native error carries the request's seq, which xttrader matches on
        self._push("bindOnOrderErrorCallback", error)

    def _fill(self, order: Any, volume: int) -> Any:
        price = order.price if order.price_type == FIX_PRICE else COUNTER.quotes.get(order.stock_code, 10.0)
        value = volume * price
        order.traded_volume, order.traded_price = volume, price
        held = COUNTER.positions.get(order.stock_code)
        if order.order_type == STOCK_BUY:
            COUNTER.cash -= value + _fee(value)
            if held is None:
                COUNTER.positions[order.stock_code] = Holding(volume, 0, price, price)  # T+1
            else:
                held.avg_price = (held.avg_price * held.volume + value) / (held.volume + volume)
                held.volume += volume
                held.last_price = price
        elif held is not None:
            COUNTER.cash += value - _fee(value) - value * 0.0005  # stamp duty on sells
            held.volume -= volume
            held.can_use -= volume
            held.last_price = price
            if held.volume == 0:
                del COUNTER.positions[order.stock_code]
        return _xttype().XtTrade(
            order.account_id, order.stock_code, order.order_type, f"T{order.order_id}", 0, price, volume, value,
            order.order_id, order.order_sysid, order.strategy_name, order.order_remark, 48, order.order_type,
            _fee(value), "A000001", order.stock_code,
        )  # fmt: skip
