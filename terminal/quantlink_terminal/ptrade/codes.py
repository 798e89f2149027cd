"""Security codes between QuantLink's exchange form (600570.SH, 000001.SZ) and PTrade's (600570.SS, 000001.SZ;
PTrade's Order and trade records use JoinQuant-style 600570.XSHG / 000001.XSHE).

PTrade's API documents Shanghai (.SS / .XSHG) and Shenzhen (.SZ / .XSHE) codes only; it has no code for the
Beijing Stock Exchange, so a .BJ signal is refused with that reason rather than sent under a guessed code.
"""

from __future__ import annotations

from quantlink_terminal.reasons import Reason

_TO_PTRADE = {"SH": "SS", "SZ": "SZ"}
_FROM_PTRADE = {"SS": "SH", "XSHG": "SH", "SZ": "SZ", "XSHE": "SZ"}


def ptrade_code(security: str) -> str | None:
    """600570.SH -> 600570.SS, 000001.SZ -> 000001.SZ; None for a market PTrade has no code for."""
    code, _, exchange = security.upper().partition(".")
    suffix = _TO_PTRADE.get(exchange)
    return None if suffix is None or not code else f"{code}.{suffix}"


def exchange_form(ptrade: str) -> str | None:
    """600570.SS or 600570.XSHG -> 600570.SH; None for anything else (an index, a futures contract)."""
    code, _, suffix = str(ptrade).upper().partition(".")
    exchange = _FROM_PTRADE.get(suffix)
    return None if exchange is None or not code else f"{code}.{exchange}"


def unsupported_market(security: str) -> Reason | None:
    """Why PTrade cannot trade `security`, or None when it can."""
    if ptrade_code(security) is not None:
        return None
    if security.upper().endswith(".BJ"):
        return Reason(
            "ptrade.unsupported_market",
            f"{security} is a Beijing Stock Exchange code; PTrade's API has codes for Shanghai (.SS) and "
            "Shenzhen (.SZ) only, so it is not traded on this terminal",
            f"{security} 为北交所代码；PTrade 接口仅支持沪市（.SS）与深市（.SZ）代码，本终端不交易",
        )
    return Reason(
        "ptrade.unsupported_market",
        f"{security} is not a Shanghai or Shenzhen code; PTrade cannot trade it",
        f"{security} 不是沪深市场代码，PTrade 无法交易",
    )
