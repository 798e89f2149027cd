"""A simulated account for demos and tests: cash, positions, A-share lot rules and T+1 sellable volume,
persisted to one JSON file. Orders fill at once, in full, at the limit price or the leader's price."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Any

from quantlink_terminal.clock import Clock, system_clock, to_iso
from quantlink_terminal.executors.base import AccountSnapshot, Holding, OrderRequest
from quantlink_terminal.instruments import is_valid_sell, lot_rule
from quantlink_terminal.models import BUY, EXECUTED, FAILED, Outcome
from quantlink_terminal.reasons import Reason


@dataclass(frozen=True)
class PaperSettings:
    state_file: str
    initial_cash: float = 1_000_000.0
    prices: dict[str, float] = field(default_factory=dict)  # fallback quotes when a signal has no price


class PaperExecutor:
    name = "paper"

    def __init__(self, settings: PaperSettings, clock: Clock = system_clock) -> None:
        self._settings = settings
        self._clock = clock
        self._state: dict[str, Any] = {}

    # -- Executor interface -------------------------------------------------------------------------

    def connect(self) -> None:
        self._state = self._load()
        self._roll_trading_day()

    def close(self) -> None:
        """Nothing to release: every change is already on disk."""

    def account(self) -> AccountSnapshot:
        self._roll_trading_day()
        holdings = {
            security: Holding(
                volume=int(pos["volume"]),
                sellable=int(pos["sellable"]),
                avg_price=float(pos["avgPrice"]),
                last_price=float(pos["lastPrice"]),
            )
            for security, pos in self._state["positions"].items()
        }
        market_value = sum(h.volume * (h.last_price or h.avg_price) for h in holdings.values())
        cash = float(self._state["cash"])
        return AccountSnapshot(cash=cash, total_asset=cash + market_value, holdings=holdings)

    def last_price(self, security: str) -> float | None:
        if security in self._settings.prices:
            return float(self._settings.prices[security])
        position = self._state.get("positions", {}).get(security)
        return None if position is None else float(position["lastPrice"])

    def refuses(self, security: str) -> Reason | None:
        """Every A-share market (SH, SZ, BJ) is tradable here."""
        return None

    def find_order(self, client_order_id: str) -> Outcome | None:
        record = self._state["orders"].get(client_order_id)
        return None if record is None else Outcome(**record["outcome"])

    def place(self, order: OrderRequest) -> Outcome:
        self._roll_trading_day()
        recorded = self.find_order(order.client_order_id)
        if recorded is not None:  # the same client order id twice is the same order, as at a real broker
            return recorded
        price = order.limit_price or order.reference_price or self.last_price(order.security)
        self._state["sequence"] = int(self._state.get("sequence", 0)) + 1
        broker_order_id = f"PAPER-{self._state['sequence']:06d}"
        error = self._refusal(order, price)
        if error is not None or price is None:
            outcome = Outcome(
                status=FAILED, broker_order_id=broker_order_id, filled=0, error=error or "no price to fill at"
            )
        else:
            self._fill(order, price)
            outcome = Outcome(
                status=EXECUTED,
                broker_order_id=broker_order_id,
                filled=order.volume,
                avg_price=price,
                executed_at=to_iso(self._clock()),
            )
        self._state["orders"][order.client_order_id] = {
            "security": order.security,
            "side": order.side,
            "volume": order.volume,
            "outcome": asdict(outcome),
        }
        # Order record and position change land in one atomic file write: a crash leaves both or neither.
        self._save()
        return outcome

    # -- simulation ---------------------------------------------------------------------------------

    def _refusal(self, order: OrderRequest, price: float | None) -> str | None:
        """What a broker would refuse this order for (its 废单 message), or None."""
        if price is None or price <= 0:
            return f"no price for {order.security}"
        lots = lot_rule(order.security)
        position = self._state["positions"].get(order.security, {"volume": 0, "sellable": 0})
        if order.side == BUY:
            if lots.round_down(order.volume) != order.volume:
                return (
                    f"{order.volume} is not a valid buy volume for {order.security}: at least {lots.minimum}"
                    f" shares, in steps of {lots.step}"
                )
            if order.volume * price > float(self._state["cash"]) + 1e-6:
                cash = float(self._state["cash"])
                return f"insufficient cash: need {order.volume * price:.2f}, have {cash:.2f}"
            return None
        sellable = int(position["sellable"])
        if order.volume > sellable:
            return f"sell of {order.volume} exceeds the {sellable} sellable shares of {order.security}"
        if not is_valid_sell(order.security, order.volume, sellable):
            return (
                f"{order.volume} is not a valid sell of {order.security}: whole lots, or whole lots plus "
                f"the entire odd-lot part of the {sellable} sellable shares"
            )
        return None

    def _fill(self, order: OrderRequest, price: float) -> None:
        positions: dict[str, dict[str, Any]] = self._state["positions"]
        position = positions.setdefault(
            order.security, {"volume": 0, "sellable": 0, "avgPrice": 0.0, "lastPrice": price}
        )
        if order.side == BUY:
            cost = order.volume * price
            new_volume = int(position["volume"]) + order.volume
            position["avgPrice"] = (float(position["avgPrice"]) * int(position["volume"]) + cost) / new_volume
            position["volume"] = new_volume  # T+1: bought shares become sellable on the next trading day
            self._state["cash"] = float(self._state["cash"]) - cost
        else:
            position["volume"] = int(position["volume"]) - order.volume
            position["sellable"] = int(position["sellable"]) - order.volume
            self._state["cash"] = float(self._state["cash"]) + order.volume * price
        position["lastPrice"] = price
        if position["volume"] == 0:
            del positions[order.security]

    def _roll_trading_day(self) -> None:
        today = self._clock().date().isoformat()
        if self._state.get("tradingDay") == today:
            return
        for position in self._state["positions"].values():
            position["sellable"] = position["volume"]
        self._state["tradingDay"] = today
        self._save()

    # -- persistence --------------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        if not os.path.exists(self._settings.state_file):
            return {
                "cash": float(self._settings.initial_cash),
                "positions": {},
                "orders": {},
                "sequence": 0,
                "tradingDay": None,
            }
        with open(self._settings.state_file, encoding="utf-8") as handle:
            state: dict[str, Any] = json.load(handle)
        return state

    def _save(self) -> None:
        directory = os.path.dirname(os.path.abspath(self._settings.state_file))
        fd, temporary = tempfile.mkstemp(prefix=".paper-", suffix=".json", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self._state, handle, ensure_ascii=False, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self._settings.state_file)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
