#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""RSI 超买超卖策略.

RSI < 30 买入，RSI > 70 卖出。
"""
from __future__ import division, print_function

import math

from jqdata import *


def initialize(context):
    g.security = '000333.XSHE'
    g.period = 14
    run_daily(trade, '9:40')


def rsi(closes, period):
    gains = losses = 0.0
    for prev, cur in zip(closes[:-1], closes[1:]):
        change = cur - prev
        if change > 0:
            gains += change
        else:
            losses -= change
    if losses == 0:
        return 100.0
    return 100 - 100 / (1 + gains / losses)


def trade(context):
    closes = attribute_history(g.security, g.period + 1, '1d', ['close'])['close']
    value = rsi(list(closes), g.period)
    if math.isnan(value):
        return
    if value < 30:
        order_value(g.security, context.portfolio.available_cash)
    elif value > 70:
        order_target(g.security, 0)
    else:
        order_target_value(g.security, context.portfolio.total_value / 2)
