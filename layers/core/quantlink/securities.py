"""Security codes as each source writes them, to the exchange form QMT uses ('600000.SH'), and the
A-share lot rules the server needs (a source that sends money, not shares, is sized here)."""

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


# ---- the codes QuantDinger and TradingView write -------------------------------------------------

# Which exchange lists a bare six-digit code, by its leading digits (the longest prefix decides). These are
# the blocks the exchanges assign: SSE main board 600/601/603/605, STAR 688/689, SSE funds (ETF, LOF) 5xx,
# SSE bonds 11x, SSE B shares 900; SZSE main board 000-003, ChiNext 300/301, SZSE funds 15x/16x/18x, SZSE
# bonds 12x, SZSE B shares 200/201; BSE 43x, 83x, 87x, 88x and the 920 block it moved to in 2024.
_PREFIXES: dict[str, str] = {
    "600": "SH", "601": "SH", "603": "SH", "605": "SH", "688": "SH", "689": "SH",
    "50": "SH", "51": "SH", "52": "SH", "56": "SH", "58": "SH",
    "11": "SH", "900": "SH",
    "000": "SZ", "001": "SZ", "002": "SZ", "003": "SZ", "300": "SZ", "301": "SZ",
    "15": "SZ", "16": "SZ", "18": "SZ", "12": "SZ", "200": "SZ", "201": "SZ",
    "43": "BJ", "83": "BJ", "87": "BJ", "88": "BJ", "920": "BJ",
}  # fmt: skip
_SUFFIXES = {"SH": "SH", "SS": "SH", "SZ": "SZ", "BJ": "BJ"}  # .SS: how Yahoo (and QuantDinger's data) write SSE
_PREFIXED = {"SSE": "SH", "SZSE": "SZ", "BSE": "BJ"}  # TradingView's exchange prefixes
_SIX_DIGITS = re.compile(r"[0-9]{6}", re.ASCII)
_SUFFIXED = re.compile(r"([0-9]{6})\.([A-Z]{2})", re.ASCII)
_WITH_EXCHANGE = re.compile(r"([A-Z]{3,4}):([0-9]{6})", re.ASCII)


def infer_exchange(code: str) -> str | None:
    """The exchange ('SH', 'SZ', 'BJ') of a bare six-digit A-share code, or None when no block fits."""
    if not _SIX_DIGITS.fullmatch(code):
        return None
    for length in (3, 2):
        exchange = _PREFIXES.get(code[:length])
        if exchange is not None:
            return exchange
    return None


def a_share_security(symbol: str, *, field: str) -> str:
    """'600000.SH' / '600000.SS' / '000001.SZ' / '430047.BJ', 'SSE:600000' / 'SZSE:000001' / 'BSE:430047',
    '600000.XSHG', or a bare '600000' (the exchange inferred) to the exchange form."""
    text = symbol.strip().upper()
    if (match := _SUFFIXED.fullmatch(text)) and match.group(2) in _SUFFIXES:
        return f"{match.group(1)}.{_SUFFIXES[match.group(2)]}"
    if (match := _WITH_EXCHANGE.fullmatch(text)) and match.group(1) in _PREFIXED:
        exchange = _PREFIXED[match.group(1)]
        if exchange == "BJ" and infer_exchange(match.group(2)) != "BJ":
            # TradingView's BSE is also the Bombay Stock Exchange, whose codes are six digits too.
            raise ValidationFailed(
                f"{symbol!r} is not a Beijing Stock Exchange code (BSE codes start 43, 83, 87, 88 or 920).",
                details=[{"field": field, "message": "not a Beijing Stock Exchange code"}],
            )
        return f"{match.group(2)}.{exchange}"
    if _CODE.fullmatch(text):
        return to_exchange_form(text, field=field)
    inferred = infer_exchange(text)
    if inferred is not None:
        return f"{text}.{inferred}"
    raise ValidationFailed(
        f"Unknown security {symbol!r}: expected an A-share code such as 600000.SH, 000001.SZ, 430047.BJ, "
        "SSE:600000, or six digits whose exchange can be inferred.",
        details=[{"field": field, "message": "not an A-share code of a known exchange"}],
    )


# ---- lots ------------------------------------------------------------------------------------------


def round_down_to_lot(security: str, shares: int) -> int:
    """The largest buyable count not above `shares`: whole lots of 100 on the main boards and ChiNext;
    at least 200, then any count, on the STAR market (688/689); at least 100, then any count, on the BSE.
    0 when not even the minimum fits."""
    code, _, exchange = security.partition(".")
    if exchange == "SH" and code[:3] in ("688", "689"):
        return shares if shares >= 200 else 0
    if exchange == "BJ":
        return shares if shares >= 100 else 0
    return shares // 100 * 100
