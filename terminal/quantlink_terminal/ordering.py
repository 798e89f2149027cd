"""The order in which one pulled batch is executed."""

from __future__ import annotations

from typing import Sequence

from quantlink_terminal.models import SELL, Signal


def execution_order(batch: Sequence[Signal]) -> list[Signal]:
    """Sells first so they free cash for the buys, but never reorder two signals for the same security
    (a buy-then-sell of one stock must stay a buy-then-sell). Otherwise the pulled order is kept."""
    remaining = list(batch)
    ordered: list[Signal] = []
    while remaining:
        pick = 0  # the earliest signal is always free to go
        for index, signal in enumerate(remaining):
            earlier_same_security = any(other.security == signal.security for other in remaining[:index])
            if signal.side == SELL and not earlier_same_security:
                pick = index
                break
        ordered.append(remaining.pop(pick))
    return ordered
