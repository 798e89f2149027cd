"""A small stand-in for JoinQuant's strategy runtime, to run injected strategies in tests.

It models what the injected code depends on: order functions that return `Order` objects and
record them in `get_orders()` (today's orders by id), `context.portfolio`, `context.current_dt`,
`context.run_params.type`, `g` (pickled without its `__` attributes), `run_daily`, `log`, and
simulated trading's daily restart (the module runs again, `initialize` does not, `g` and the
schedule come back from the pickle). Plus enough market data API for the corpus strategies.

The HTTP side stays real or is replaced through the runtime's own seam: `FakeWebhook` stands in
for `_quantlink_urlopen` (same call, same answers and errors as urllib), `FakeClock` for
`_quantlink_time`.
"""

from __future__ import annotations

import builtins
import enum
import hashlib
import io
import json
import math
import pickle
import types
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

START = datetime(2026, 11, 16, 9, 0)  # a Monday
INDEX_STOCKS = [
    "600000.XSHG",
    "600036.XSHG",
    "600519.XSHG",
    "601318.XSHG",
    "601398.XSHG",
    "000001.XSHE",
    "000002.XSHE",
    "000333.XSHE",
    "000858.XSHE",
    "002415.XSHE",
    "300750.XSHE",
    "688981.XSHG",
]
ETFS = ["510300.XSHG", "510500.XSHG", "159915.XSHE", "518880.XSHG", "513100.XSHG"]


def price_of(security: str, bar: int) -> float:
    """Deterministic prices: a base per security and a gentle wave over bars."""
    base = 5 + int(hashlib.sha256(security.encode()).hexdigest()[:4], 16) % 60
    return round(base * (1 + 0.03 * math.sin(bar / 3 + base)), 2)


class OrderStatus(enum.Enum):
    open = 0
    filled = 1
    canceled = 2
    rejected = 3
    held = 4


class MarketOrderStyle:
    def __init__(self, limit_price: float | None = None) -> None:
        self.limit_price = limit_price


class LimitOrderStyle:
    def __init__(self, limit_price: float) -> None:
        self.limit_price = limit_price


@dataclass
class Order:
    order_id: str
    security: str
    amount: int  # always positive, as in JoinQuant
    is_buy: bool
    price: float
    filled: int
    status: OrderStatus
    add_time: datetime
    style: Any = None
    side: str = "long"
    action: str = "open"


@dataclass
class Position:
    security: str
    total_amount: int = 0
    closeable_amount: int = 0
    avg_cost: float = 0.0
    price: float = 0.0

    @property
    def value(self) -> float:
        return self.total_amount * self.price


class Positions(dict[str, Position]):
    """Like JoinQuant's: reading a security not held gives an empty position (not stored)."""

    def __missing__(self, security: str) -> Position:
        return Position(security)


@dataclass
class Portfolio:
    available_cash: float
    positions: Positions = field(default_factory=Positions)
    starting_cash: float = 0.0

    @property
    def positions_value(self) -> float:
        return sum(p.value for p in self.positions.values())

    @property
    def total_value(self) -> float:
        return self.available_cash + self.positions_value

    @property
    def cash(self) -> float:
        return self.available_cash


@dataclass
class RunParams:
    type: str
    frequency: str = "day"
    start_date: datetime = START
    end_date: datetime = START


@dataclass
class Context:
    portfolio: Portfolio
    current_dt: datetime
    run_params: RunParams
    previous_date: datetime = START - timedelta(days=3)


class G:
    """JoinQuant's `g`: attributes starting with `__` are dropped when it is pickled."""

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.startswith("__")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state)

    def __getattr__(self, name: str) -> Any:  # only reached for missing attributes: strategies set any
        raise AttributeError(name)


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def _add(self, level: str, *parts: Any) -> None:
        self.lines.append((level, " ".join(str(p) for p in parts)))

    def info(self, *parts: Any) -> None:
        self._add("info", *parts)

    def warn(self, *parts: Any) -> None:
        self._add("warn", *parts)

    def error(self, *parts: Any) -> None:
        self._add("error", *parts)

    def debug(self, *parts: Any) -> None:
        self._add("debug", *parts)

    def set_level(self, *args: Any) -> None:
        pass

    def warnings(self) -> list[str]:
        return [text for level, text in self.lines if level == "warn"]


# ---- Market data fakes (enough for the corpus) -----------------------------------------------------


class Series(list[float]):
    def mean(self) -> float:
        return sum(self) / len(self) if self else float("nan")

    def sum(self) -> float:
        return float(builtins.sum(self))

    def std(self) -> float:
        mu = self.mean()
        return math.sqrt(builtins.sum((x - mu) ** 2 for x in self) / max(len(self) - 1, 1))

    def max(self) -> float:
        return builtins.max(self)

    def min(self) -> float:
        return builtins.min(self)

    @property
    def iloc(self) -> Series:
        return self

    @property
    def values(self) -> Series:
        return self

    def tolist(self) -> list[float]:
        return list(self)


class Frame(dict[str, Any]):
    """A column dict: frame['close'] is a Series; len() is the number of rows."""

    def __len__(self) -> int:
        first: list[Any] = next(iter(self.values()), [])
        return len(first)

    @property
    def empty(self) -> bool:
        return len(self) == 0

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class Field:
    def __init__(self, table: str, name: str) -> None:
        self.table, self.name = table, name

    def asc(self) -> Field:
        return self

    def desc(self) -> Field:
        return self

    def in_(self, values: Iterable[str]) -> Field:
        return self

    def __gt__(self, other: Any) -> Field:
        return self

    def __lt__(self, other: Any) -> Field:
        return self

    def __ge__(self, other: Any) -> Field:
        return self

    def __le__(self, other: Any) -> Field:
        return self

    def __eq__(self, other: Any) -> Field:  # type: ignore[override]
        return self

    def __hash__(self) -> int:
        return hash((self.table, self.name))


class Table:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, name: str) -> Field:
        return Field(self._name, name)


class Query:
    def __init__(self, fields: tuple[Field, ...]) -> None:
        self.fields = fields
        self.count = len(INDEX_STOCKS)

    def filter(self, *conditions: Any) -> Query:
        return self

    def order_by(self, *fields: Any) -> Query:
        return self

    def limit(self, count: int) -> Query:
        self.count = count
        return self


@dataclass
class CurrentData:
    last_price: float
    high_limit: float
    low_limit: float
    day_open: float
    paused: bool = False
    is_st: bool = False
    name: str = "股票"


@dataclass
class SecurityInfo:
    display_name: str
    start_date: datetime = datetime(2010, 1, 4)
    type: str = "stock"


# ---- The transport and clock seams of the injected runtime ----------------------------------------


@dataclass
class Sent:
    url: str
    headers: dict[str, str]
    body: bytes
    timeout: float
    orders_placed: int  # how many orders the strategy had placed when this was sent

    @property
    def json(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


class FakeResponse(io.BytesIO):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(json.dumps(body).encode())
        self.status = status

    def getcode(self) -> int:
        return self.status


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class FakeWebhook:
    """Answers like QuantLink's webhook: 202 for new bytes, 200 duplicate for bytes seen before.

    `script` lists what the next calls do instead: an int status (500, 401...), "timeout",
    "lost" (the body is taken, then the answer is lost: a timeout for the sender), or ("slow",
    seconds) to advance `clock` before answering normally. `answers` keeps what was answered.
    """

    def __init__(self, joinquant: FakeJoinQuant, clock: FakeClock | None = None) -> None:
        self.joinquant = joinquant
        self.clock = clock
        self.sent: list[Sent] = []
        self.script: list[Any] = []
        self.answers: list[dict[str, Any]] = []
        self.accepted: list[bytes] = []  # each new body the webhook took, in order
        self._seen: set[bytes] = set()

    def __call__(self, request: urllib.request.Request, timeout: float) -> FakeResponse:
        body = request.data
        assert isinstance(body, bytes)
        headers = {k.lower(): v for k, v in request.header_items()}
        self.sent.append(Sent(request.full_url, headers, body, timeout, len(self.joinquant.placed)))
        step = self.script.pop(0) if self.script else None
        if isinstance(step, tuple) and step[0] == "slow" and self.clock is not None:
            self.clock.now += step[1]
            step = None
        if step == "lost":
            self._answer(body)
        if step in ("timeout", "lost"):
            if self.clock is not None:
                self.clock.now += timeout
            raise urllib.error.URLError(TimeoutError("timed out"))
        if isinstance(step, int):
            raise urllib.error.HTTPError(request.full_url, step, "scripted", Message(), io.BytesIO(b"{}"))
        return self._answer(body)

    def _answer(self, body: bytes) -> FakeResponse:
        if body in self._seen:
            answer: dict[str, Any] = {"signalId": "sig_seen", "duplicate": True}
        else:
            self._seen.add(body)
            self.accepted.append(body)
            answer = {"signalId": f"sig_{len(self._seen)}", "duplicate": False, "deliveries": 1}
        self.answers.append(answer)
        return FakeResponse(200 if answer["duplicate"] else 202, answer)

    def signals(self) -> list[dict[str, Any]]:
        """The signals the webhook took (once each, however many tries), in order."""
        return [json.loads(body) for body in self.accepted if b'"positions"' not in body]

    def positions(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body in self.accepted if b'"positions"' in body]

    def order_sends(self) -> list[Sent]:
        """Every try of a signal (positions reports left out)."""
        return [sent for sent in self.sent if not sent.url.endswith("/positions")]


# ---- The runtime ---------------------------------------------------------------------------------

_TIMES = {"before_open": "09:00", "open": "09:30", "close": "15:00", "after_close": "15:30"}
_MINUTE_BARS = ["09:31", "09:45", "10:30", "11:29", "13:01", "14:00", "14:55"]


def _clock_time(text: str) -> str:
    text = _TIMES.get(text, text)
    hours, minutes = text.split(":")[:2]
    return f"{int(hours):02d}:{int(minutes):02d}"


class FakeJoinQuant:
    def __init__(
        self,
        run_type: str = "sim_trade",
        *,
        cash: float = 1_000_000.0,
        frequency: str = "day",
        fill: bool = True,
        transport: Callable[..., Any] | None = None,
        clock: FakeClock | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.context = Context(
            portfolio=Portfolio(available_cash=cash, starting_cash=cash),
            current_dt=START,
            run_params=RunParams(type=run_type, frequency=frequency),
        )
        self.g = G()
        self.log = Log()
        self.fill = fill
        self.transport = transport
        self.clock = clock
        self.settings = settings or {}  # runtime globals to override after each load (timeouts...)
        self.orders: dict[str, Order] = {}  # today's, as get_orders() answers
        self.placed: list[Order] = []  # every order of the run, in order
        self.schedule: list[tuple[str, str]] = []  # (function name, "HH:MM" or "every_bar")
        self.reject_next = False
        self.namespace: dict[str, Any] = {}
        self._bar = 0
        self._next_id = 1_000_000

    # -- order functions

    def _price(self, security: str) -> float:
        return price_of(security, self._bar)

    def _position(self, security: str) -> int:
        position = self.context.portfolio.positions.get(security)
        return position.total_amount if position else 0

    def _place(self, security: str, delta: float, style: Any = None) -> Order | None:
        price = self._price(security)
        amount = int(abs(delta))
        is_buy = delta > 0
        if is_buy:
            amount = amount // 100 * 100  # A-shares trade in lots of 100
            affordable = int(self.context.portfolio.available_cash // (price * 100)) * 100
            amount = min(amount, affordable)
        else:
            amount = min(amount, self._position(security))
        if amount <= 0:
            self.log.warn(f"order of 0 shares of {security} not placed")
            return None
        self._next_id += 1
        status = OrderStatus.rejected if self.reject_next else (OrderStatus.filled if self.fill else OrderStatus.open)
        self.reject_next = False
        fill_price = style.limit_price if isinstance(style, LimitOrderStyle) else price
        order = Order(
            order_id=str(self._next_id),
            security=security,
            amount=amount,
            is_buy=is_buy,
            price=fill_price if status is OrderStatus.filled else 0.0,
            filled=amount if status is OrderStatus.filled else 0,
            status=status,
            add_time=self.context.current_dt,
            style=style or MarketOrderStyle(),
            action="open" if is_buy else "close",
        )
        self.orders[order.order_id] = order
        self.placed.append(order)
        if status is OrderStatus.filled:
            self._fill(order, fill_price)
        return order

    def _fill(self, order: Order, price: float) -> None:
        portfolio = self.context.portfolio
        position = portfolio.positions.setdefault(order.security, Position(order.security))
        signed = order.amount if order.is_buy else -order.amount
        if order.is_buy:
            position.avg_cost = (position.avg_cost * position.total_amount + price * order.amount) / (
                position.total_amount + order.amount
            )
        position.total_amount += signed
        position.price = price
        portfolio.available_cash -= signed * price
        if position.total_amount == 0:
            del portfolio.positions[order.security]

    def order(self, security: str, amount: float, style: Any = None, side: str = "long") -> Order | None:
        return self._place(security, amount, style)

    def order_target(self, security: str, amount: float, style: Any = None, side: str = "long") -> Order | None:
        return self._place(security, amount - self._position(security), style)

    def order_value(self, security: str, value: float, style: Any = None, side: str = "long") -> Order | None:
        return self._place(security, value / self._price(security), style)

    def order_target_value(self, security: str, value: float, style: Any = None, side: str = "long") -> Order | None:
        return self._place(security, value / self._price(security) - self._position(security), style)

    def order_target_percent(self, security: str, percent: float, style: Any = None) -> Order | None:
        return self.order_target_value(security, percent * self.context.portfolio.total_value, style)

    def get_orders(
        self, order_id: str | None = None, security: str | None = None, status: Any = None
    ) -> dict[str, Order]:
        return {
            k: o
            for k, o in self.orders.items()
            if (order_id is None or k == order_id)
            and (security is None or o.security == security)
            and (status is None or o.status is status)
        }

    def cancel_order(self, order: Any) -> None:
        found = self.orders.get(getattr(order, "order_id", order))
        if found is not None and found.status is OrderStatus.open:
            found.status = OrderStatus.canceled

    # -- scheduling

    def run_daily(self, func: Callable[..., Any], time: str = "9:30", reference_security: str = "") -> None:
        self.schedule.append((func.__name__, "every_bar" if time == "every_bar" else _clock_time(time)))

    def run_weekly(self, func: Callable[..., Any], weekday: int, time: str = "9:30", **_: Any) -> None:
        self.run_daily(func, time)

    def run_monthly(self, func: Callable[..., Any], monthday: int, time: str = "9:30", **_: Any) -> None:
        self.run_daily(func, time)

    def unschedule_all(self) -> None:
        self.schedule.clear()

    # -- data

    def get_current_data(self) -> dict[str, CurrentData]:
        class _Current(dict[str, CurrentData]):
            def __missing__(inner, security: str) -> CurrentData:  # noqa: N805
                price = self._price(security)
                return CurrentData(price, round(price * 1.1, 2), round(price * 0.9, 2), price)

        return _Current()

    def _series(self, security: str, count: int) -> Series:
        return Series(price_of(security, self._bar - i) for i in range(count - 1, -1, -1))

    def attribute_history(
        self, security: str, count: int, unit: str = "1d", fields: Any = ("close",), **_: Any
    ) -> Frame:
        names = [fields] if isinstance(fields, str) else list(fields)
        return Frame({name: self._series(security, count) for name in names})

    def history(self, count: int, unit: str = "1d", field: str = "close", security_list: Any = None, **_: Any) -> Frame:
        securities = [security_list] if isinstance(security_list, str) else list(security_list or [])
        return Frame({s: self._series(s, count) for s in securities})

    def get_price(self, security: Any, count: int = 5, fields: Any = ("close",), **_: Any) -> Frame:
        if isinstance(security, str):
            return self.attribute_history(security, count, fields=fields)
        return self.history(count, security_list=security)

    def get_bars(self, security: str, count: int, unit: str = "1d", fields: Any = ("close",), **_: Any) -> Frame:
        return self.attribute_history(security, count, fields=fields)

    def get_index_stocks(self, index: str, date: Any = None) -> list[str]:
        return list(INDEX_STOCKS)

    def get_all_securities(self, types: Any = ("stock",), date: Any = None) -> Frame:
        return Frame({"index": list(INDEX_STOCKS), "display_name": ["股票"] * len(INDEX_STOCKS)})

    def get_security_info(self, security: str, date: Any = None) -> SecurityInfo:
        return SecurityInfo(display_name="ST股" if security.startswith("0000") else "股票")

    def get_fundamentals(self, query: Query, date: Any = None) -> Frame:
        codes = INDEX_STOCKS[: query.count]
        return Frame(
            {
                "code": codes,
                "market_cap": Series(float(10 + i) for i in range(len(codes))),
                "pe_ratio": Series(float(8 + 3 * i) for i in range(len(codes))),
                "roe": Series(float(20 - i) for i in range(len(codes))),
            }
        )

    def get_trade_days(self, start_date: Any = None, end_date: Any = None, count: int = 5) -> list[datetime]:
        return [self.context.current_dt - timedelta(days=i) for i in range(count, 0, -1)]

    # -- loading and running

    def _modules(self, api: dict[str, Any]) -> dict[str, types.ModuleType]:
        modules = {}
        for name in ("jqdata", "jqlib", "jqlib.technical_analysis", "kuanke", "kuanke.wizard", "jqfactor"):
            module = types.ModuleType(name)
            module.__dict__.update(api)
            modules[name] = module
        return modules

    def api(self) -> dict[str, Any]:
        noop = lambda *args, **kwargs: None  # noqa: E731
        return {
            "order": self.order,
            "order_target": self.order_target,
            "order_value": self.order_value,
            "order_target_value": self.order_target_value,
            "order_target_percent": self.order_target_percent,
            "order_shares": self.order,
            "order_to": self.order_target,
            "buy": lambda security, amount, style=None: self.order(security, abs(amount), style),
            "sell": lambda security, amount, style=None: self.order(security, -abs(amount), style),
            "get_orders": self.get_orders,
            "get_open_orders": lambda: {k: o for k, o in self.orders.items() if o.status is OrderStatus.open},
            "cancel_order": self.cancel_order,
            "run_daily": self.run_daily,
            "run_weekly": self.run_weekly,
            "run_monthly": self.run_monthly,
            "unschedule_all": self.unschedule_all,
            "get_current_data": self.get_current_data,
            "attribute_history": self.attribute_history,
            "history": self.history,
            "get_price": self.get_price,
            "get_bars": self.get_bars,
            "get_index_stocks": self.get_index_stocks,
            "get_all_securities": self.get_all_securities,
            "get_security_info": self.get_security_info,
            "get_fundamentals": self.get_fundamentals,
            "get_trade_days": self.get_trade_days,
            "query": lambda *fields: Query(fields),
            "valuation": Table("valuation"),
            "indicator": Table("indicator"),
            "income": Table("income"),
            "LimitOrderStyle": LimitOrderStyle,
            "MarketOrderStyle": MarketOrderStyle,
            "OrderStatus": OrderStatus,
            "OrderCost": lambda **kwargs: kwargs,
            "FixedSlippage": lambda *args: args,
            "PriceRelatedSlippage": lambda *args: args,
            "set_benchmark": noop,
            "set_option": noop,
            "set_order_cost": noop,
            "set_slippage": noop,
            "set_universe": noop,
            "record": noop,
            "send_message": noop,
            "log": self.log,
            "g": self.g,
        }

    def load(self, code: str) -> dict[str, Any]:
        """Runs the strategy's module code in a fresh namespace, as JoinQuant does at each (re)start."""
        api = self.api()
        modules = self._modules(api)
        real_import = builtins.__import__

        def import_(name: str, globals_: Any = None, locals_: Any = None, fromlist: Any = (), level: int = 0) -> Any:
            if name in modules:
                return modules[name] if fromlist or "." not in name else modules[name.split(".")[0]]
            return real_import(name, globals_, locals_, fromlist, level)

        namespace: dict[str, Any] = {
            "__builtins__": {**builtins.__dict__, "__import__": import_},
            "__name__": "user_code",
        }
        namespace.update(api)
        exec(compile(code, "user_code.py", "exec", dont_inherit=True), namespace)
        if self.transport is not None:
            namespace["_quantlink_urlopen"] = self.transport
        if self.clock is not None:
            namespace["_quantlink_time"] = self.clock
        namespace.update(self.settings)
        self.namespace = namespace
        return namespace

    def _call(self, name: str, *args: Any) -> None:
        function = self.namespace.get(name)
        if callable(function):
            function(self.context, *args)

    def _at(self, day: int, clock: str) -> None:
        hours, minutes = clock.split(":")
        self.context.current_dt = (START + timedelta(days=day)).replace(hour=int(hours), minute=int(minutes))

    def restart(self, code: str, *, code_changed: bool = False) -> None:
        """Simulated trading's overnight restart: g and context come back from a pickle, the module
        runs again (module globals start over), initialize does not run, process_initialize does."""
        self.g, self.context = pickle.loads(pickle.dumps((self.g, self.context)))
        self.load(code)
        self._call("process_initialize")
        if code_changed:
            self._call("after_code_changed")

    def run(self, code: str, days: int = 1) -> FakeJoinQuant:
        self.load(code)
        self._call("initialize")
        self._call("process_initialize")
        for day in range(days):
            if day and self.context.run_params.type == "sim_trade":
                self.restart(code)
            self.orders = {}
            self._at(day, "09:00")
            self._call("before_trading_start")
            bars = _MINUTE_BARS if self.context.run_params.frequency == "minute" else ["09:30"]
            events = sorted(
                [(clock, 0, "handle_data") for clock in bars]
                + [(clock, 1, name) for name, clock in self.schedule if clock != "every_bar"]
                + [(clock, 1, name) for name, every in self.schedule if every == "every_bar" for clock in bars]
            )
            for clock, _, name in events:
                self._at(day, clock)
                self._bar = day * 10 + bars.index(clock) if clock in bars else day * 10
                if name == "handle_data":
                    self._call("handle_data", {})
                else:
                    self._call(name)
            self._at(day, "15:30")
            self._call("after_trading_end")
        return self
