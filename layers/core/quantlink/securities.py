"""JoinQuant security codes ('600000.XSHG') to the exchange form QMT uses ('600000.SH')."""

from __future__ import annotations

import re

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
