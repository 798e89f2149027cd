# 用同名函数包装聚宽的下单函数，统一打日志
from jqdata import *

_jq_order_target_value = order_target_value


def order_target_value(security, value, *args, **kwargs):
    log.info('调仓 %s -> %.0f' % (security, value))
    result = _jq_order_target_value(security, value, *args, **kwargs)
    if result is None:
        log.warn('%s 未成交' % security)
    return result


def initialize(context):
    g.targets = {'600000.XSHG': 0.3, '601398.XSHG': 0.3}
    run_daily(rebalance, 'open')


def rebalance(context):
    total = context.portfolio.total_value
    for stock, weight in g.targets.items():
        order_target_value(stock, total * weight)
