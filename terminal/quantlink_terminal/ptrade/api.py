"""PTrade's strategy API as the terminal uses it, looked up by name in the script's namespace at call time.

PTrade puts its functions (`order`, `get_order`, `get_all_orders`, `get_trades`, `get_snapshot`, `log`, ...)
into the namespace a strategy runs in, and hands a `context` (with `context.portfolio`) to every callback.
Everything here follows PTrade's API documentation (交易相关函数, Order / Position / Portfolio objects),
including its variations between versions (`get_order` answers a one-element list or the Order itself).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from quantlink_terminal.executors.base import ExecutorUnavailable

TRADING_MODULE_FIX = (
    "Run this script in PTrade's 交易 (trading) module: add a trade (新增交易) with it. Backtests (回测) and "
    "research notebooks (研究) have no order functions. | 请在 PTrade 的“交易”模块中运行本策略（新增交易），"
    "回测与研究环境无下单函数。"
)


class NamespaceApi:
    """The PTrade functions the terminal calls, from `namespace` (the script's globals), plus the context of
    the latest callback (`use_context`)."""

    def __init__(self, namespace: Mapping[str, Any]) -> None:
        self._namespace = namespace
        self.context: Any = None

    def use_context(self, context: Any) -> None:
        if context is not None:
            self.context = context

    def has(self, name: str) -> bool:
        return callable(self._namespace.get(name))

    def function(self, name: str) -> Callable[..., Any]:
        found = self._namespace.get(name)
        if not callable(found):
            raise ExecutorUnavailable(f"PTrade's {name}() is not available here", TRADING_MODULE_FIX)
        return found  # type: ignore[no-any-return]

    # -- trading ------------------------------------------------------------------------------------

    def order(self, code: str, amount: int, limit_price: float | None) -> Any:
        """The new Order's id, or None when PTrade did not create it. `amount` < 0 sells."""
        place = self.function("order")
        if limit_price is None:
            return place(code, amount)  # PTrade prices it at the latest snapshot price
        return place(code, amount, limit_price=limit_price)

    def get_order(self, order_id: str) -> Any:
        answer = self.function("get_order")(order_id)
        if isinstance(answer, (list, tuple)):
            return answer[0] if answer else None
        return answer

    def get_all_orders(self) -> list[dict[str, Any]] | None:
        """The account's orders today at the broker's counter (柜台), or None when PTrade answered nothing."""
        answer = self.function("get_all_orders")()
        return None if answer is None else [dict(item) for item in answer]

    def get_trades(self) -> dict[str, list[Any]]:
        """Today's fills by Order id: [fill no, entrust no, code, side, volume, price, value, time] each."""
        answer = self.function("get_trades")()
        return dict(answer) if answer else {}

    def snapshot(self, code: str) -> dict[str, Any]:
        """PTrade's quote for `code` (last_px, up_px, down_px, ...), empty when there is none."""
        if not self.has("get_snapshot"):
            return {}
        answer = self.function("get_snapshot")(code)
        if not answer:
            return {}
        quote = answer.get(code) if hasattr(answer, "get") else None
        return dict(quote) if quote else {}

    def portfolio(self) -> Any:
        if self.context is None or getattr(self.context, "portfolio", None) is None:
            raise ExecutorUnavailable("PTrade has not handed the script its account yet", TRADING_MODULE_FIX)
        return self.context.portfolio

    # -- PTrade's log -------------------------------------------------------------------------------

    def write_log(self, level: str, message: str) -> None:
        """PTrade's `log.info` / `log.warning` / `log.error`, which the trade's log panel shows."""
        ptrade_log = self._namespace.get("log")
        writer = getattr(ptrade_log, level, None) or getattr(ptrade_log, "info", None)
        if callable(writer):
            writer(message)
