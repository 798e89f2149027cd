# -*- coding: utf-8 -*-
"""沪深300等权重每日再平衡。

每天开盘后把组合调整为沪深300前十只成分股的等权组合。
"""
from jqdata import *


def initialize(context):
    set_benchmark('000300.XSHG')
    set_option('use_real_price', True)
    set_order_cost(OrderCost(open_commission=0.0003, close_commission=0.0003, close_tax=0.001, min_commission=5), type='stock')
    g.stock_num = 10
    run_daily(rebalance, time='9:35')


def pick_stocks(context):
    stocks = get_index_stocks('000300.XSHG')
    current_data = get_current_data()
    # 过滤停牌和ST
    stocks = [s for s in stocks if not current_data[s].paused and not current_data[s].is_st]
    return stocks[:g.stock_num]


def rebalance(context):
    targets = pick_stocks(context)
    # 先卖后买，释放资金
    for stock in list(context.portfolio.positions.keys()):
        if stock not in targets:
            order_target_value(stock, 0)
    value = context.portfolio.total_value / len(targets)
    for stock in targets:
        order_target_value(stock, value)  # 等权
