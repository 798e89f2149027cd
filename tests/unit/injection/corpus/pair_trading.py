# 配对交易：两只银行股的价差回归
from jqdata import *


def initialize(context):
    g.a, g.b = '600036.XSHG', '601398.XSHG'
    g.threshold = 0.05
    run_daily(trade, '10:00')


def spread(context):
    pa = get_current_data()[g.a].last_price
    pb = get_current_data()[g.b].last_price
    return pa / pb - 1


def trade(context):
    s = spread(context)
    half = context.portfolio.total_value * 0.45
    if s > g.threshold:
        order_target_value(g.a, 0); order_target_value(g.b, half)  # 做多便宜的一边
    elif s < -g.threshold:
        order_target_value(g.b, 0); order_target_value(g.a, half)
    else:
        order_target_value(g.a, half / 2); order_target(g.b, 0)
