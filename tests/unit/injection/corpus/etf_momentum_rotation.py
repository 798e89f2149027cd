# ETF动量轮动：持有过去20日涨幅最大的ETF
from jqdata import *

ETF_POOL = [
    '510300.XSHG',  # 沪深300ETF
    '510500.XSHG',  # 中证500ETF
    '159915.XSHE',  # 创业板ETF
    '518880.XSHG',  # 黄金ETF
    '513100.XSHG',  # 纳指ETF
]


def initialize(context):
    set_benchmark('510300.XSHG')
    set_option('use_real_price', True)
    set_order_cost(OrderCost(open_commission=0.0002, close_commission=0.0002, min_commission=5), type='fund')
    g.momentum_days = 20
    run_daily(trade, '10:00')


def momentum(etf, days):
    prices = attribute_history(etf, days, '1d', ['close'])['close']
    return prices[-1] / prices[0] - 1


def trade(context):
    scores = {etf: momentum(etf, g.momentum_days) for etf in ETF_POOL}
    best = max(scores, key=scores.get)
    if scores[best] < 0:
        best = None  # 全部下跌则空仓
    for etf in list(context.portfolio.positions):
        if etf != best:
            order_target(etf, 0)
    if best is not None and best not in context.portfolio.positions:
        order_value(best, context.portfolio.available_cash)
