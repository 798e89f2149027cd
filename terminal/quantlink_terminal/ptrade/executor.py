"""The PTrade executor: places orders with PTrade's `order()` and reads their fate from `get_order()`.

PTrade's order API has no client order id (xtquant's remark), so the executor notes each order it is about
to place in the journal's meta before calling `order()`, and the Order id right after. After a restart an
order journaled as placing is found by that id, or, if the restart came during `order()` itself, among the
account's orders of the day at the counter (`get_all_orders`): the one for the same security and signed
amount, entered after the note, that no other signal has claimed. Several candidates, or no answer from the
counter, is OrderStateUnknown: never a reason to place again.

Market signals are sent as marketable limit orders: PTrade's `order()` without a price uses the latest price,
which rests if the market moves; the executor prices a buy at the latest price plus the sizing's
market_buy_buffer (the cash the buy was sized with), capped at the day's limit-up, and a sell at minus the
buffer, floored at limit-down, each on the security's tick.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Protocol

from quantlink_terminal.clock import Clock, monotonic, parse_iso, system_clock, to_iso
from quantlink_terminal.executors.base import AccountSnapshot, Holding, OrderRequest, OrderStateUnknown
from quantlink_terminal.executors.outcomes import cancelled_unfilled, junk, placed
from quantlink_terminal.instruments import round_limit_price
from quantlink_terminal.models import BUY, FAILED, Outcome
from quantlink_terminal.ptrade.api import NamespaceApi
from quantlink_terminal.ptrade.codes import exchange_form, ptrade_code, unsupported_market
from quantlink_terminal.ptrade.settings import PTradeSettings
from quantlink_terminal.reasons import Reason

# Order.status (委托状态) per PTrade's data dictionary.
PART_CANCELLED = "5"  # 部撤
CANCELLED = "6"  # 已撤
FILLED = "8"  # 已成
JUNK = "9"  # 废单
FINAL_STATUSES = frozenset({PART_CANCELLED, CANCELLED, FILLED, JUNK})

NOTES_KEY = "ptrade.orders"
NOTES_KEPT_DAYS = 7
# An order found at the counter must have been entered at most this long before the note (clock skew).
MATCH_SLACK_SECONDS = 60


class OrderNotes(Protocol):
    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...


def _number(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


class PTradeExecutor:
    name = "ptrade"

    def __init__(
        self,
        api: NamespaceApi,
        notes: OrderNotes,
        settings: PTradeSettings,
        market_buffer: float,
        clock: Clock = system_clock,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api = api
        self._notes = notes
        self._settings = settings
        self._market_buffer = market_buffer
        self._clock = clock
        self._sleep = sleep

    # -- Executor -----------------------------------------------------------------------------------

    def connect(self) -> None:
        self._api.function("order")  # raises ExecutorUnavailable outside PTrade's trading module

    def close(self) -> None:
        """Nothing to release."""

    def refuses(self, security: str) -> Reason | None:
        return unsupported_market(security)

    def account(self) -> AccountSnapshot:
        portfolio = self._api.portfolio()
        holdings = {}
        for key, position in dict(portfolio.positions or {}).items():
            security = exchange_form(key) or exchange_form(getattr(position, "sid", ""))
            volume = int(_number(getattr(position, "amount", 0)))
            if security is None or volume <= 0:
                continue  # not a Shanghai/Shenzhen security, or nothing held
            last = _number(getattr(position, "last_sale_price", 0))
            holdings[security] = Holding(
                volume=volume,
                sellable=int(_number(getattr(position, "enable_amount", 0))),
                avg_price=_number(getattr(position, "cost_basis", 0)),
                last_price=last or None,
            )
        return AccountSnapshot(
            cash=_number(portfolio.cash), total_asset=_number(portfolio.portfolio_value), holdings=holdings
        )

    def last_price(self, security: str) -> float | None:
        code = ptrade_code(security)
        quote = self._api.snapshot(code) if code else {}
        price = _number(quote.get("last_px"))
        if price:
            return price
        held = self.account().holding(security)
        return held.last_price

    def place(self, order: OrderRequest) -> Outcome:
        code = ptrade_code(order.security)
        if code is None:
            reason = unsupported_market(order.security)
            assert reason is not None
            return Outcome.refused(FAILED, reason)
        limit = order.limit_price if order.limit_price is not None else self._marketable_price(order, code)
        amount = order.volume if order.side == BUY else -order.volume
        self._note(order.client_order_id, {"code": code, "amount": amount, "at": to_iso(self._clock())})
        try:
            order_id = self._api.order(code, amount, limit)
        except Exception as exc:  # noqa: BLE001 - PTrade raises for arguments it refuses: no order was made
            return self._refused(f"PTrade's order() raised {exc!r}", f"PTrade 下单函数报错：{exc!r}")
        if not order_id:
            return self._refused(
                "PTrade did not create the order (order() returned None); PTrade's log above says why",
                "PTrade 未生成委托（order() 返回 None），原因见上方 PTrade 日志",
            )
        self._note(order.client_order_id, {"orderId": str(order_id)})
        return self._settle(order.client_order_id, str(order_id), self._wait_for_final(str(order_id)))

    def find_order(self, client_order_id: str) -> Outcome | None:
        note = self._notes_today().get(client_order_id)
        if note is None:
            return None  # no note: order() was never called for it
        order_id = note.get("orderId")
        if order_id:
            found = self._api.get_order(order_id)
            if found is not None:
                return self._settle(client_order_id, order_id, found)
        return self._adopt_from_counter(client_order_id, note)

    # -- orders -------------------------------------------------------------------------------------

    def _marketable_price(self, order: OrderRequest, code: str) -> float | None:
        quote = self._api.snapshot(code)
        last = _number(quote.get("last_px"))
        if not last:
            return None  # PTrade prices it at its own latest price
        if order.side == BUY:
            price = round_limit_price(order.security, BUY, last * (1 + self._market_buffer))
            ceiling = _number(quote.get("up_px"))
            return min(price, ceiling) if ceiling else price
        price = round_limit_price(order.security, order.side, last * (1 - self._market_buffer))
        floor = _number(quote.get("down_px"))
        return max(price, floor) if floor else price

    def _refused(self, en: str, zh: str) -> Outcome:
        return Outcome.refused(
            FAILED, Reason("broker.refused", f"broker refused the order: {en}", f"券商拒绝委托：{zh}")
        )

    def _wait_for_final(self, order_id: str) -> Any:
        deadline = monotonic() + self._settings.order_timeout
        while True:
            found = self._api.get_order(order_id)
            if found is not None and str(getattr(found, "status", "")) in FINAL_STATUSES:
                return found
            if monotonic() >= deadline:
                return found
            self._sleep(self._settings.order_poll)

    def _settle(self, client_order_id: str, order_id: str, found: Any) -> Outcome:
        """The outcome of a PTrade Order (None: PTrade does not know it yet)."""
        status = None if found is None else str(getattr(found, "status", ""))
        entrust_no = None if found is None else getattr(found, "entrust_no", None)
        if entrust_no:
            self._note(client_order_id, {"entrustNo": str(entrust_no)})
        filled = abs(int(_number(getattr(found, "filled", 0)))) if found is not None else 0
        fills = self._average_price(order_id, str(entrust_no) if entrust_no else None)
        return self._outcome(order_id, status, filled, fills)

    def _outcome(
        self, broker_order_id: str, status: str | None, filled: int, avg_price: float | None
    ) -> Outcome:
        now = to_iso(self._clock())
        if status == JUNK:
            return junk(broker_order_id, "PTrade order status 9 (废单); the reason is in PTrade's 委托 list")
        if status == CANCELLED and filled == 0:
            return cancelled_unfilled(broker_order_id, "PTrade order status 6 (已撤)")
        open_status = None if status in FINAL_STATUSES else (status or "unknown")
        return placed(broker_order_id, filled, avg_price, now, open_status, self._settings.order_timeout)

    def _average_price(self, order_id: str, entrust_no: str | None) -> float | None:
        """Today's fills of the order (by Order id, or by entrust number for one found at the counter)."""
        try:
            trades = self._api.get_trades()
        except Exception:  # noqa: BLE001 - fills are detail; the order's status decided the outcome
            return None
        rows = list(trades.get(order_id, []))
        if not rows and entrust_no is not None:
            rows = [row for fills in trades.values() for row in fills if str(row[1]) == entrust_no]
        volume = sum(abs(_number(row[4])) for row in rows)
        return sum(abs(_number(row[4])) * _number(row[5]) for row in rows) / volume if volume else None

    def _adopt_from_counter(self, client_order_id: str, note: dict[str, Any]) -> Outcome | None:
        orders = self._api.get_all_orders()
        if orders is None:
            raise OrderStateUnknown("PTrade's get_all_orders() answered nothing, so it cannot tell")
        claimed = {
            str(other.get("entrustNo"))
            for key, other in self._notes_today().items()
            if key != client_order_id
        }
        noted_at = parse_iso(str(note["at"]))
        candidates = []
        for counter_order in orders:
            if exchange_form(counter_order.get("symbol", "")) != exchange_form(str(note["code"])):
                continue
            amount = int(_number(counter_order.get("amount")))
            side_is_sell = str(counter_order.get("entrust_bs")) == "2" or amount < 0
            if abs(amount) != abs(int(note["amount"])) or side_is_sell != (int(note["amount"]) < 0):
                continue
            entered = counter_order.get("entrust_time")
            if entered and (noted_at - parse_iso(str(entered))).total_seconds() > MATCH_SLACK_SECONDS:
                continue  # entered before this signal's order was even about to be placed
            if str(counter_order.get("entrust_no")) in claimed:
                continue
            candidates.append(counter_order)
        if not candidates:
            return None  # the counter has no such order: order() never got through
        if len(candidates) > 1:
            raise OrderStateUnknown(
                f"{len(candidates)} orders of {note['code']} for {note['amount']} shares at the counter "
                "today could be this signal's; it cannot tell which"
            )
        [adopted] = candidates
        entrust_no = str(adopted.get("entrust_no"))
        self._note(client_order_id, {"entrustNo": entrust_no})
        filled = abs(int(_number(adopted.get("filled_amount"))))
        broker_id = note.get("orderId") or entrust_no
        avg_price = self._average_price(str(note.get("orderId") or ""), entrust_no)
        return self._outcome(str(broker_id), str(adopted.get("status")), filled, avg_price)

    # -- the notes ----------------------------------------------------------------------------------

    def _all_notes(self) -> dict[str, dict[str, Any]]:
        text = self._notes.get_meta(NOTES_KEY)
        notes: dict[str, dict[str, Any]] = json.loads(text) if text else {}
        return notes

    def _notes_today(self) -> dict[str, dict[str, Any]]:
        today = self._clock().date()
        return {key: note for key, note in self._all_notes().items() if parse_iso(note["at"]).date() == today}

    def _note(self, client_order_id: str, values: dict[str, Any]) -> None:
        """Durable before the call it announces (the journal's meta is written through)."""
        notes = self._all_notes()
        today = self._clock().date()
        kept = {
            key: note
            for key, note in notes.items()
            if (today - parse_iso(note["at"]).date()).days < NOTES_KEPT_DAYS
        }
        kept.setdefault(client_order_id, {"at": to_iso(self._clock())}).update(values)
        self._notes.set_meta(NOTES_KEY, json.dumps(kept, sort_keys=True))
