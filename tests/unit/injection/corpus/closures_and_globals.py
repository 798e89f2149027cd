# 闭包、global 和 nonlocal
from jqdata import *

TRADE_COUNT = 0


def initialize(context):
    g.pool = ['000001.XSHE', '000002.XSHE']
    run_daily(trade, 'open')


def make_trader(context, budget):
    spent = 0

    def trade_one(security):
        nonlocal spent
        global TRADE_COUNT
        result = order_value(security, budget / 2)
        if result is not None:
            spent += result.amount * result.price
            TRADE_COUNT += 1
        return result

    return trade_one


def trade(context):
    trader = make_trader(context, context.portfolio.available_cash * 0.2)
    for s in g.pool:
        trader(s)
    log.info('累计下单次数 %d' % TRADE_COUNT)
