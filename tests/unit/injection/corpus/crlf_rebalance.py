# Windows 下编辑的策略（CRLF 换行）
from jqdata import *


def initialize(context):
    g.security = "601318.XSHG"
    run_daily(trade, "14:50")


def trade(context):
    prices = attribute_history(g.security, 10, "1d", ["close"])["close"]
    # 跌破10日均线卖出，否则买入
    if prices[-1] < prices.mean():
        order_target(g.security, 0)
    else:
        order_value(g.security, context.portfolio.available_cash * 0.5)
