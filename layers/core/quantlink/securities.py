"""JoinQuant security codes ('600000.XSHG') to the exchange form QMT uses ('600000.SH')."""

from __future__ import annotations

import re
from dataclasses import dataclass

from quantlink.errors import ValidationFailed

_EXCHANGES = {"XSHG": "SH", "XSHE": "SZ", "XBSE": "BJ"}
# Exactly the ASCII form: [0-9], not \d (which takes any Unicode digit, e.g. '٦٠٠٠٠٠'), and fullmatch,
# not `$` (which also matches before a trailing newline).
_CODE = re.compile(r"([0-9]{6})\.([A-Z]{4})", re.ASCII)


def to_exchange_form(security: str, *, field: str = "order.security") -> str:
    match = _CODE.fullmatch(security)
    exchange = _EXCHANGES.get(match.group(2)) if match else None
    if match is None or exchange is None:
        raise ValidationFailed(
            f"Unknown security code {security!r}: expected six digits and .XSHG, .XSHE or .XBSE.",
            details=[{"field": field, "message": "unknown exchange suffix or malformed code"}],
        )
    return f"{match.group(1)}.{exchange}"


def to_source_form(security: str) -> str:
    """'600000.SH' back to JoinQuant's '600000.XSHG' (a sync order names its security both ways)."""
    code, _, exchange = security.partition(".")
    source = {short: long for long, short in _EXCHANGES.items()}.get(exchange)
    return f"{code}.{source}" if source else security


def normalize_security(security: str) -> str | None:
    """Either form ('600000.XSHG' or '600000.SH') as the exchange form; None when it is neither."""
    match = _CODE.fullmatch(security)
    if match and match.group(2) in _EXCHANGES:
        return f"{match.group(1)}.{_EXCHANGES[match.group(2)]}"
    code, _, exchange = security.partition(".")
    if len(code) == 6 and code.isascii() and code.isdigit() and exchange in _EXCHANGES.values():
        return security
    return None


@dataclass(frozen=True)
class LotRule:
    """An order must be at least `minimum` shares, then grow in `step`s (the agent's rule, the same numbers:
    terminal/quantlink_terminal/instruments.py)."""

    minimum: int
    step: int

    def round_down(self, volume: int) -> int:
        if volume < self.minimum:
            return 0
        return self.minimum + (volume - self.minimum) // self.step * self.step


def lot_rule(security: str) -> LotRule:
    """SSE/SZSE main boards and ChiNext: 100-share lots; STAR (688/689): from 200 in steps of 1; Beijing:
    from 100 in steps of 1. `security` in exchange form."""
    code, _, exchange = security.partition(".")
    if exchange == "SH" and code.startswith(("688", "689")):
        return LotRule(minimum=200, step=1)
    if exchange == "BJ":
        return LotRule(minimum=100, step=1)
    return LotRule(minimum=100, step=100)


def largest_valid_sell(security: str, wanted: int, sellable: int) -> int:
    """The largest sell of at most `wanted` shares the exchange accepts from a `sellable` balance: whole
    lots, optionally with the balance's odd-lot part in the same order (余股须一次性申报卖出), or all of it."""
    cap = min(wanted, sellable)
    if cap <= 0:
        return 0
    if cap == sellable:
        return sellable
    lots = lot_rule(security)
    if lots.step == 1:
        return cap if cap >= lots.minimum else 0
    best = cap // lots.step * lots.step
    odd = sellable % lots.step
    if odd and cap >= odd:
        best = max(best, (cap - odd) // lots.step * lots.step + odd)
    return best
