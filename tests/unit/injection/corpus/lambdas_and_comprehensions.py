# 用 lambda、列表推导、生成器表达式批量下单
from jqdata import *


def initialize(context):
    g.pool = ['600000.XSHG', '600036.XSHG', '601318.XSHG', '000001.XSHE']
    run_daily(trade, 'open')


def trade(context):
    holding = list(context.portfolio.positions)
    # 列表推导批量清仓
    results = [order_target(s, 0) for s in holding if s not in g.pool[:2]]
    log.info('清仓 %d 只' % len(results))
    # map + lambda 批量买入
    each = context.portfolio.available_cash / 4
    orders = list(map(lambda s: order_value(s, each), g.pool[:2]))
    # 生成器表达式：any() 会提前停止
    failed = any(order_value(s, each / 2) is None for s in g.pool[2:])
    if failed:
        log.warn('有订单失败')
    buyer = lambda s, v: order_target_value(s, v)
    buyer(g.pool[3], each)
    log.info('下单 %d' % len(orders))
