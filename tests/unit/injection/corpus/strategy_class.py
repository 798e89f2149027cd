# 面向对象组织的策略
from jqdata import *


class MomentumStrategy(object):
    def __init__(self, pool, hold):
        self.pool = pool
        self.hold = hold

    def score(self, security):
        close = attribute_history(security, 10, '1d', ['close'])['close']
        return close[-1] / close[0]

    def rebalance(self, context):
        chosen = sorted(self.pool, key=self.score, reverse=True)[:self.hold]
        for s in list(context.portfolio.positions):
            if s not in chosen:
                order_target(s, 0)
        for s in chosen:
            order_target_value(s, context.portfolio.total_value / self.hold)


def initialize(context):
    g.hold = 2
    run_daily(trade, 'open')


def trade(context):
    strategy = MomentumStrategy(get_index_stocks('000300.XSHG')[:6], g.hold)
    strategy.rebalance(context)
