# 自定义 buy / sell 函数（和聚宽下单函数同名，但只是策略自己的工具函数）
from jqdata import *


def initialize(context):
    g.pool = ['000333.XSHE', '002415.XSHE', '300750.XSHE']
    run_daily(market_open, 'open')


def buy(context, stocks):
    if not stocks:
        return
    cash = context.portfolio.available_cash / len(stocks)
    for s in stocks:
        order_value(s, cash)


def sell(context, stocks):
    for s in stocks:
        order_target(s, 0)


def market_open(context):
    holding = list(context.portfolio.positions)
    to_sell = [s for s in holding if s not in g.pool]
    to_buy = [s for s in g.pool if s not in holding]
    sell(context, to_sell)
    buy(context, to_buy)
    if context.current_dt.day % 2 == 1:
        sell(context, holding[:1])
