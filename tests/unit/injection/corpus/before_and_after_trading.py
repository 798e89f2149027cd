# 盘前选股、盘中交易、盘后统计
from jqdata import *


def initialize(context):
    set_benchmark('000300.XSHG')
    g.candidates = []


def before_trading_start(context):
    stocks = get_index_stocks('000300.XSHG')
    current = get_current_data()
    g.candidates = [s for s in stocks if not current[s].paused][:4]


def handle_data(context, data):
    for s in g.candidates:
        if s not in context.portfolio.positions:
            order_value(s, context.portfolio.total_value / 8)
    for s in list(context.portfolio.positions)[4:]:
        order_target(s, 0)


def after_trading_end(context):
    # 这里的 order 是循环变量（订单对象），不是下单函数
    for order in get_orders().values():
        log.info('%s %s %d' % (order.security, 'buy' if order.is_buy else 'sell', order.amount))
