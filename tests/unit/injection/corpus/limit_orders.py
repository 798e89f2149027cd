# 限价单：以前收盘价下限价单
from jqdata import *


def initialize(context):
    g.pool = ['601318.XSHG', '600036.XSHG']
    run_daily(trade, '9:30')


def trade(context):
    current = get_current_data()
    for s in g.pool:
        price = current[s].last_price
        if s in context.portfolio.positions:
            order_target(s, 0, LimitOrderStyle(round(price * 1.01, 2)))
        else:
            order(s, 200, style=LimitOrderStyle(round(price * 0.99, 2)))
