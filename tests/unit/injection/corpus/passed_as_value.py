# 把下单函数当参数传递（注入只能在之后的上报里发出这些订单）
from jqdata import *
import functools


def initialize(context):
    g.security = '510500.XSHG'
    run_daily(trade, 'open')


def execute(fn, security, amount):
    return fn(security, amount)


def trade(context):
    execute(order, g.security, 100)
    buy_some = functools.partial(order_value, g.security)
    buy_some(5000)
    order(g.security, 100)  # 这一笔会把前面的订单一起上报
