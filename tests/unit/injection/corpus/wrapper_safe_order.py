# 下单前统一检查停牌/涨跌停的包装函数
from jqdata import *


def initialize(context):
    g.stocks = ['600036.XSHG', '601318.XSHG', '000858.XSHE']
    run_daily(trade, '9:45')


def safe_order_target_value(context, security, value):
    """停牌或涨跌停时不下单，返回订单对象或None"""
    current = get_current_data()[security]
    if current.paused:
        log.warn('%s 停牌' % security)
        return None
    if value > 0 and current.last_price >= current.high_limit:
        return None
    if value == 0 and current.last_price <= current.low_limit:
        return None
    return order_target_value(security, value)


def close_position(context, security):
    safe_order_target_value(context, security, 0)


def trade(context):
    each = context.portfolio.total_value / len(g.stocks)
    for stock in g.stocks:
        safe_order_target_value(context, stock, each)
    if context.current_dt.day % 2 == 0:
        close_position(context, g.stocks[0])
