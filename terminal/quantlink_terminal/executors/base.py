"""The one interface every executor (paper, xtquant) implements, and the records it speaks in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from quantlink_terminal.models import Outcome
from quantlink_terminal.reasons import Reason


class ExecutorUnavailable(RuntimeError):
    """The executor cannot work at all (miniQMT not running, wrong account); `fix` says what to do."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


class OrderStateUnknown(RuntimeError):
    """The broker answered, but cannot tell whether an order exists (xtquant's order query answers None both
    for "failed" and for "no orders today"). Never a reason to place the order (again)."""


@dataclass(frozen=True)
class Holding:
    volume: int
    sellable: int  # T+1: shares bought today cannot be sold today
    avg_price: float
    last_price: float | None = None


@dataclass(frozen=True)
class AccountSnapshot:
    cash: float  # available cash
    total_asset: float
    holdings: dict[str, Holding] = field(default_factory=dict)

    def holding(self, security: str) -> Holding:
        return self.holdings.get(security, Holding(volume=0, sellable=0, avg_price=0.0))


@dataclass(frozen=True)
class OrderRequest:
    client_order_id: str  # our idempotency key at the broker (xtquant order_remark, paper order key)
    security: str
    side: str
    volume: int
    limit_price: float | None  # None: market order
    reference_price: float | None  # the leader's price; the paper executor fills market orders at it


class Executor(Protocol):
    """Places orders for one account. Implementations never raise for a broker *rejection*: that is an
    Outcome with status failed. They raise ExecutorUnavailable when they cannot reach the broker at all."""

    name: str

    def connect(self) -> None: ...

    def close(self) -> None: ...

    def account(self) -> AccountSnapshot: ...

    def last_price(self, security: str) -> float | None: ...

    def refuses(self, security: str) -> Reason | None:
        """Why this executor cannot trade `security` at all (its broker API has no such market), or None.
        Asked before sizing: such a signal is rejected without journaling an order."""
        ...

    def place(self, order: OrderRequest) -> Outcome: ...

    def find_order(self, client_order_id: str) -> Outcome | None:
        """The outcome of an order placed earlier under this client order id, or None if none exists today.
        Raises OrderStateUnknown when the broker cannot tell, ExecutorUnavailable when it is unreachable."""
        ...
