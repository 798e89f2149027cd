# 行业ETF轮动：按20日收益率排序，持有前两名
from jqdata import *


def initialize(context):
    g.etfs = ['510300.XSHG', '510500.XSHG', '159915.XSHE', '518880.XSHG', '513100.XSHG']
    g.top = 2
    run_daily(rotate, '14:50')


def returns(etf):
    close = history(21, '1d', 'close', [etf])[etf]
    return close[-1] / close[0] - 1


def place(security, value):
    """统一下单入口，记录下单结果"""
    result = order_target_value(security, value)
    if result is not None:
        log.info('%s %s %d' % (security, 'buy' if result.is_buy else 'sell', result.amount))
    return result


def rotate(context):
    ranked = sorted(g.etfs, key=returns, reverse=True)
    keep = ranked[:g.top]
    for etf in list(context.portfolio.positions):
        if etf not in keep:
            place(etf, 0)
    for etf in keep:
        place(etf, context.portfolio.total_value / g.top)
