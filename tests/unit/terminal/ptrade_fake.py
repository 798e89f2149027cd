"""A fake PTrade: the strategy API a PTrade script runs against, with the shapes PTrade's API documentation
gives (交易相关函数, Order / Position / Portfolio objects), over a fake broker counter.

- `order(security, amount, limit_price=None)` answers the new Order's id (a hex string) or None; codes are
  600570.SS / 000001.SZ; `amount` < 0 sells. Without a limit price the order is priced at the snapshot's
  last price. A marketable order fills at once (status '8'), one that is not rests ('2'); a buy the cash
  cannot pay for, or a sell beyond the sellable shares, is 废单 ('9'), as the counter would make it.
- `get_order(id)` answers a one-element list of Order (id, symbol in 600570.XSHG form, signed amount and
  filled, status, entrust_no); `get_orders()`, `get_all_orders()` (the counter's records: dicts with symbol,
  entrust_no, amount, entrust_bs, price, status, filled_amount, entrust_time), `get_trades()` (Order id ->
  [fill no, entrust no, 600570.XSHG, '买'/'卖', volume, price, value, datetime] rows), `get_position`,
  `get_positions`, `get_snapshot` (last_px, up_px, down_px).
- `context.portfolio`: cash, portfolio_value, positions keyed by code, each a Position (sid, amount,
  enable_amount, cost_basis, last_sale_price); shares bought today are not sellable until `next_day()` (T+1).
- `run_interval(context, func, seconds)` records the timer; `tick()` fires it as PTrade's timer thread would.
  `log` records what the script logs; `g` is a plain object.
- `load(script)` runs a script in a fresh namespace, as a (re)started PTrade process does; the broker and
  the research folder outlive it. `crash_*` make the process die (SimulatedCrash, a BaseException nothing in
  the script catches) at the worst moments.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from quantlink_terminal.clock import CHINA_TZ

CASH = 1_000_000.0


class SimulatedCrash(BaseException):
    """The PTrade process dies here (a server restart): nothing after this line runs."""


def xshg(code: str) -> str:
    return code.replace(".SS", ".XSHG").replace(".SZ", ".XSHE")


@dataclass
class Position:
    sid: str
    amount: int = 0
    enable_amount: int = 0
    cost_basis: float = 0.0
    last_sale_price: float = 0.0
    business_type: str = "stock"


@dataclass
class Order:
    id: str
    symbol: str
    amount: int
    limit: float | None
    status: str
    filled: int = 0
    entrust_no: str = ""
    dt: datetime | None = None
    created: datetime | None = None
    priceGear: str | None = None  # noqa: N815 - PTrade's name


class Portfolio:
    def __init__(self, broker: FakeBroker) -> None:
        self._broker = broker

    @property
    def cash(self) -> float:
        return self._broker.cash

    @property
    def positions(self) -> dict[str, Position]:
        return {code: p for code, p in self._broker.positions.items() if p.amount > 0}

    @property
    def portfolio_value(self) -> float:
        return self._broker.cash + sum(p.amount * p.last_sale_price for p in self._broker.positions.values())


class Context:
    def __init__(self, broker: FakeBroker) -> None:
        self.portfolio = Portfolio(broker)


@dataclass
class FakeBroker:
    """PTrade's order engine and the broker's counter (柜台) behind it."""

    cash: float = CASH
    positions: dict[str, Position] = field(default_factory=dict)
    quotes: dict[str, dict[str, float]] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    counter: list[dict[str, Any]] = field(default_factory=list)  # get_all_orders()
    trades: dict[str, list[list[Any]]] = field(default_factory=dict)
    order_calls: list[tuple[str, int, float | None]] = field(default_factory=list)  # every order() call
    reactions: list[str] = field(default_factory=list)  # per order: "fill" (default), "rest", "junk", "none"
    crash_in_order: bool = False  # die inside order(), after the counter took the order
    crash_before_counter: bool = False  # die inside order(), before the order reached the counter
    crash_after_order: bool = False  # die at the first get_order() after an order was placed
    counter_unavailable: bool = False  # get_all_orders() answers None
    now: Callable[[], datetime] = lambda: datetime.now(CHINA_TZ)
    _entrust: int = 700000

    def quote(self, code: str, last: float) -> None:
        self.quotes[code] = {"last_px": last, "up_px": round(last * 1.1, 2), "down_px": round(last * 0.9, 2)}

    def hold(self, code: str, amount: int, price: float, sellable: int | None = None) -> None:
        self.positions[code] = Position(code, amount, amount if sellable is None else sellable, price, price)
        self.quotes.setdefault(code, {"last_px": price, "up_px": round(price * 1.1, 2), "down_px": price * 0.9})

    def next_day(self) -> None:
        for position in self.positions.values():
            position.enable_amount = position.amount

    # -- PTrade's functions -------------------------------------------------------------------------

    def order(self, security: str, amount: int, limit_price: float | None = None) -> str | None:
        self.order_calls.append((security, amount, limit_price))
        if self.crash_before_counter:
            self.crash_before_counter = False
            raise SimulatedCrash("PTrade died inside order(), before the counter had it")
        reaction = self.reactions.pop(0) if self.reactions else "fill"
        if reaction == "none" or not security.endswith((".SS", ".SZ")):
            return None
        last = self.quotes.get(security, {}).get("last_px")
        price = limit_price if limit_price is not None else last
        if price is None:
            return None  # "行情快照获取失败会导致委托失败"
        self._entrust += 1
        order = Order(
            id=uuid.uuid4().hex, symbol=xshg(security), amount=amount, limit=price, status="2",
            entrust_no=str(self._entrust), dt=self.now(), created=self.now(),
        )  # fmt: skip
        self.orders[order.id] = order
        entered = self.now().strftime("%Y-%m-%d %H:%M:%S")
        self.counter.append(
            {"symbol": security, "entrust_no": order.entrust_no, "amount": amount, "entrust_bs": 1 if amount > 0 else 2,
             "price": price, "status": "2", "filled_amount": 0, "entrust_time": entered}
        )  # fmt: skip
        self._react(order, reaction, last)
        if self.crash_in_order:
            self.crash_in_order = False
            raise SimulatedCrash("PTrade died inside order()")
        return order.id

    def _react(self, order: Order, reaction: str, last: float | None) -> None:
        code = order.symbol.replace(".XSHG", ".SS").replace(".XSHE", ".SZ")
        volume = abs(order.amount)
        position = self.positions.setdefault(code, Position(code))
        assert order.limit is not None
        if reaction == "junk":
            return self._status(order, "9")
        if order.amount > 0 and order.limit * volume > self.cash:
            return self._status(order, "9")  # 资金不足
        if order.amount < 0 and volume > position.enable_amount:
            return self._status(order, "9")  # 可卖数量不足
        marketable = last is None or (order.limit >= last if order.amount > 0 else order.limit <= last)
        if reaction == "rest" or not marketable:
            return None
        fill_price = last if last is not None else order.limit
        if order.amount > 0:
            position.cost_basis = (position.cost_basis * position.amount + fill_price * volume) / (
                position.amount + volume
            )
            position.amount += volume  # T+1: not sellable today
            self.cash -= fill_price * volume
        else:
            position.amount -= volume
            position.enable_amount -= volume
            self.cash += fill_price * volume
        position.last_sale_price = fill_price
        order.filled = order.amount
        self.trades.setdefault(order.id, []).append(
            [len(self.trades) + 5001, int(order.entrust_no), order.symbol, "买" if order.amount > 0 else "卖",
             volume, fill_price, volume * fill_price, self.now()]
        )  # fmt: skip
        return self._status(order, "8")

    def _status(self, order: Order, status: str) -> None:
        order.status = status
        for record in self.counter:
            if record["entrust_no"] == order.entrust_no:
                record["status"], record["filled_amount"] = status, order.filled

    def get_order(self, order_id: str) -> list[Order]:
        if self.crash_after_order:
            self.crash_after_order = False
            raise SimulatedCrash("PTrade died while the order was open")
        found = self.orders.get(order_id)
        return [] if found is None else [found]

    def get_orders(self, security: str | None = None) -> list[Order]:
        return [o for o in self.orders.values() if security is None or o.symbol == xshg(security)]

    def get_all_orders(self, security: str | None = None) -> list[dict[str, Any]] | None:
        if self.counter_unavailable:
            return None
        return [dict(r) for r in self.counter if security is None or r["symbol"] == security]

    def get_trades(self) -> dict[str, list[list[Any]]]:
        return {order_id: [list(row) for row in rows] for order_id, rows in self.trades.items()}

    def get_position(self, security: str) -> Position:
        return self.positions.get(security) or Position(security)

    def get_positions(self, security: Any = None) -> dict[str, Position]:
        return dict(self.positions)

    def get_snapshot(self, security: Any) -> dict[str, dict[str, float]]:
        codes = [security] if isinstance(security, str) else list(security)
        return {code: dict(self.quotes[code]) for code in codes if code in self.quotes}


class FakeLog:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def _write(self, level: str, message: Any) -> None:
        self.lines.append((level, str(message)))

    def info(self, message: Any) -> None:
        self._write("info", message)

    def warning(self, message: Any) -> None:
        self._write("warning", message)

    def error(self, message: Any) -> None:
        self._write("error", message)

    def debug(self, message: Any) -> None:
        self._write("debug", message)

    def text(self) -> str:
        return "\n".join(message for _level, message in self.lines)


class G:
    """PTrade's `g`: what a strategy keeps between callbacks (pickled by PTrade, which this fake does not)."""


@dataclass
class FakePTrade:
    """One PTrade account: the broker and the research folder persist; each `load` is a new process."""

    research: Path
    broker: FakeBroker = field(default_factory=FakeBroker)
    trading: bool = True  # is_trade(): False in a backtest
    blocked_modules: tuple[str, ...] = ()  # what this PTrade will not let a strategy import
    namespace: dict[str, Any] = field(default_factory=dict)
    log: FakeLog = field(default_factory=FakeLog)
    timers: list[tuple[Callable[[Any], None], int]] = field(default_factory=list)
    context: Context | None = None

    def _import(self) -> Callable[..., Any]:
        real = builtins.__import__
        blocked = self.blocked_modules

        def guarded(name: str, *args: Any, **kwargs: Any) -> Any:
            if name.split(".")[0] in blocked:
                raise ImportError(f"import of {name} is not allowed")
            return real(name, *args, **kwargs)

        return guarded

    def load(self, script: str) -> dict[str, Any]:
        """A fresh PTrade process running `script`: a new namespace holding PTrade's API."""
        broker = self.broker
        self.log = FakeLog()
        self.timers = []
        self.context = Context(broker)
        api: dict[str, Any] = {
            name: getattr(broker, name)
            for name in ("order", "get_order", "get_orders", "get_all_orders", "get_trades", "get_position",
                         "get_positions", "get_snapshot")
        }  # fmt: skip
        api.update(
            log=self.log,
            g=G(),
            is_trade=lambda: self.trading,
            get_research_path=lambda: str(self.research) + "/",
            run_interval=self._run_interval,
            set_parameters=lambda **_: None,
            set_universe=lambda *_: None,
        )
        if self.blocked_modules:
            api["__builtins__"] = {**vars(builtins), "__import__": self._import()}
        self.namespace = api
        exec(compile(script, "quantlink_ptrade.py", "exec"), self.namespace)
        return self.namespace

    def _run_interval(self, context: Any, func: Callable[[Any], None], seconds: int = 10) -> None:
        self.timers.append((func, max(3, int(seconds))))

    def start(self, script: str) -> None:
        self.load(script)
        self.namespace["initialize"](self.context)

    def restart(self, script: str) -> None:
        """PTrade's server restarted: a new process, initialize again; the journal is all that is left."""
        self.start(script)

    def tick(self) -> None:
        for func, _seconds in self.timers:
            func(self.context)

    def after_close(self) -> None:
        self.namespace["after_trading_end"](self.context, None)
