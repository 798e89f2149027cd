# 在 return、if/while 条件里下单
from jqdata import *


def initialize(context):
    g.security = '601398.XSHG'
    g.chunks = 3
    run_daily(trade, '10:30')


def try_buy(security, amount):
    return order(security, amount)


def buy_until_done(context):
    placed = 0
    # 分批买入，直到下单失败或者买满
    while placed < g.chunks and order(g.security, 100) is not None:
        placed += 1
    return placed


def trade(context):
    if try_buy(g.security, 300) is None:
        log.warn('买入失败')
    bought = buy_until_done(context)
    if bought and order_target(g.security, 100) is not None:
        log.info('调回100股')
    elif order_target(g.security, 0):
        log.info('清仓')
