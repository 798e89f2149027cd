"""Quotes: get_full_tick answers from xttrader.BROKER.quotes."""

from __future__ import annotations

from typing import Any

from . import xttrader


def get_full_tick(code_list: list[str]) -> dict[str, dict[str, Any]]:
    return {code: {"lastPrice": xttrader.BROKER.quotes[code]} for code in code_list if code in xttrader.BROKER.quotes}
