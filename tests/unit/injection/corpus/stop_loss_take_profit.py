# 止损止盈：每个bar检查持仓
from jqdata import *


def initialize(context):
    g.stop_loss = -0.08
    g.take_profit = 0.2
    g.pool = ['600519.XSHG', '000858.XSHE', '002415.XSHE']
    run_daily(buy_in, 'open')
    run_daily(check_risk, 'every_bar')


def buy_in(context):
    for s in g.pool:
        if s not in context.portfolio.positions:
            order_value(s, context.portfolio.total_value / 4)


def check_risk(context):
    for s in list(context.portfolio.positions):
        position = context.portfolio.positions[s]
        if position.avg_cost <= 0:
            continue
        ret = position.price / position.avg_cost - 1
        if ret < g.stop_loss:
            log.info('止损 %s' % s)
            order_target(s, 0)
        elif ret > g.take_profit:
            log.info('止盈 %s' % s)
            order_target(s, position.total_amount // 2)
        elif context.current_dt.day % 3 == 0 and s == g.pool[0]:
            order(s, -100)
