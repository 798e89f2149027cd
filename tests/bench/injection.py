"""Injection throughput on a generated 2,000-line JoinQuant strategy, as a ratio to the floor: a bare
libcst parse + code generation of the same file, measured in the same run (best of N each)."""

from __future__ import annotations

import time
from collections.abc import Callable

import libcst as cst
from common import Figure

from quantlink.injection import inject

URL = "https://quantlink.example/api/webhooks/joinquant/st_bench"

_FACTOR = '''
def factor_{i}(context, stocks):
    """因子 {i}：市值与估值的组合打分"""
    q = query(valuation.code, valuation.market_cap, valuation.pe_ratio).filter(
        valuation.code.in_(stocks), valuation.pe_ratio > 0
    ).order_by(valuation.market_cap.asc()).limit(50)
    df = get_fundamentals(q)
    scores = {{}}
    for code, cap, pe in zip(df['code'], df['market_cap'], df['pe_ratio']):
        # 市值越小、市盈率越低，得分越高
        scores[code] = 0.6 / (1 + cap) + 0.4 / (1 + pe) + {i} * 1e-6
    return sorted(scores, key=scores.get)[:g.hold_num]

'''

_HELPERS = """
def filter_paused_{i}(stocks):
    current = get_current_data()
    return [s for s in stocks if not current[s].paused and not current[s].is_st]


def momentum_{i}(security, days=20):
    close = attribute_history(security, days, '1d', ['close'])['close']
    if len(close) < days:
        return 0.0
    return close[-1] / close[0] - 1

"""

_TRADE = """
def safe_target_value_{i}(security, value):
    current = get_current_data()[security]
    if current.paused or current.last_price >= current.high_limit:
        return None
    return order_target_value(security, value)


def rebalance_{i}(context):
    stocks = filter_paused_{i}(get_index_stocks('000300.XSHG'))
    chosen = factor_{i}(context, stocks)
    # 先卖出不在目标中的股票
    for stock in list(context.portfolio.positions):
        if stock not in chosen:
            order_target(stock, 0)
    each = context.portfolio.total_value / max(len(chosen), 1)
    for stock in chosen:
        if momentum_{i}(stock) > 0:
            safe_target_value_{i}(stock, each)
        else:
            order_value(stock, each / 2)  # 弱势股减半
    log.info('rebalance {i} done: %d stocks' % len(chosen))

"""

_HEADER = '''# -*- coding: utf-8 -*-
"""A generated multi-factor strategy for the injection benchmark."""
from jqdata import *
import math


def initialize(context):
    set_benchmark('000300.XSHG')
    set_option('use_real_price', True)
    g.hold_num = 10
    run_daily(rebalance_0, 'open')

'''


def generated_strategy(lines: int = 2000) -> str:
    parts = [_HEADER]
    i = 0
    while sum(part.count("\n") for part in parts) < lines:
        parts += [_FACTOR.format(i=i), _HELPERS.format(i=i), _TRADE.format(i=i)]
        i += 1
    return "".join(parts)


def _best(repeats: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def run(quick: bool) -> list[Figure]:
    repeats = 3 if quick else 15
    code = generated_strategy()
    lines = code.count("\n")
    result = inject(code, webhook_url=URL, token="t")  # also warms the runtime template's cache
    injected = result.code

    # Interleaved, so both see the same machine load.
    floor = inject_time = floor_injected = reinject_time = float("inf")
    for _ in range(repeats):
        floor = min(floor, _best(1, lambda: cst.parse_module(code).code))
        inject_time = min(inject_time, _best(1, lambda: inject(code, webhook_url=URL, token="t")))
        floor_injected = min(floor_injected, _best(1, lambda: cst.parse_module(injected).code))
        reinject_time = min(reinject_time, _best(1, lambda: inject(injected, webhook_url=URL, token="t")))

    note = f"{lines} lines, {result.injected} order call sites; best of {repeats}"
    return [
        Figure("injection throughput", lines / inject_time, "lines/s", note=note),
        Figure(
            "injection of a 2,000-line strategy",
            inject_time * 1000,
            "ms",
            ratio=inject_time / floor,
            floor="libcst parse + codegen of the same file",
            target=2.0,
            note=note,
        ),
        Figure(
            "re-injection (strip + inject) of the injected file",
            reinject_time * 1000,
            "ms",
            ratio=reinject_time / floor_injected,
            floor="libcst parse + codegen of the injected file",
            note=note,
        ),
    ]


if __name__ == "__main__":
    for figure in run(quick=False):
        print(figure)
