# 在 f-string 里下单并打日志
from jqdata import *


def initialize(context):
    g.security = '600000.XSHG'
    run_daily(trade, 'open')


def buy_and_describe(security):
    return f"买入 {order(security, 100)}"


def trade(context):
    log.info(f"下单结果: {order_value(g.security, 10000)}")
    log.info(buy_and_describe(g.security))
