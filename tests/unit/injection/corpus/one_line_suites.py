# 写在一行里的 if / for
from jqdata import *


def initialize(context):
    g.pool = ['600519.XSHG', '000333.XSHE']
    run_daily(trade, 'open')


def trade(context):
    for s in g.pool: order(s, 100)
    if context.portfolio.available_cash < 10000: order_target(g.pool[0], 0)
    else: order_value(g.pool[1], 5000)
    while False: order(g.pool[0], 100)
