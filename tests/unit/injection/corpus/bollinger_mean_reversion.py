# 布林带均值回归
from jqdata import *


def initialize(context):
    g.security = '600036.XSHG'
    g.n = 20
    g.width = 2
    set_option('use_real_price', True)
    run_daily(trade, '14:45')


def bands(security):
    close = attribute_history(security, g.n, '1d', ['close'])['close']
    mid = close.mean()
    std = close.std()
    return mid - g.width * std, mid, mid + g.width * std


def trade(context):
    lower, mid, upper = bands(g.security)
    price = get_current_data()[g.security].last_price
    held = context.portfolio.positions[g.security].total_amount
    if price <= lower:
        order_value(g.security, context.portfolio.available_cash)
    elif price >= upper and held:
        order_target(g.security, 0)
    elif held == 0:
        order_target_value(g.security, context.portfolio.total_value * 0.3)
    else:
        order_target_value(g.security, context.portfolio.total_value * 0.2)
