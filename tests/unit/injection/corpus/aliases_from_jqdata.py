# 给下单函数起别名
from jqdata import order_target as ot, order_value as ov
from jqdata import *

ORDER = order_target_value


def initialize(context):
    g.stocks = ['601318.XSHG', '600000.XSHG']
    run_daily(trade, 'open')


def trade(context):
    ov(g.stocks[0], 20000)
    ORDER(g.stocks[1], 30000)
    if context.current_dt.day % 2 == 0:
        ot(g.stocks[0], 0)
