# -*- coding: utf-8 -*-
# 多因子打分选股：PE、ROE、市值三个因子排名加总
from jqdata import *
import math


def initialize(context):
    set_benchmark('000300.XSHG')
    set_option('use_real_price', True)
    g.hold_num = 6
    g.weights = {'pe_ratio': 0.4, 'roe': 0.4, 'market_cap': 0.2}
    run_monthly(monthly_rebalance, 1, time='open')


def rank(values, reverse=False):
    order_of = sorted(range(len(values)), key=lambda i: values[i], reverse=reverse)
    ranks = [0] * len(values)
    for position, index in enumerate(order_of):
        ranks[index] = position + 1
    return ranks


def score_stocks(context):
    stocks = get_index_stocks('000300.XSHG')
    df = get_fundamentals(query(valuation.code, valuation.pe_ratio, valuation.market_cap, indicator.roe)
                          .filter(valuation.code.in_(stocks)))
    codes = list(df['code'])
    pe_rank = rank(list(df['pe_ratio']))
    roe_rank = rank(list(df['roe']), reverse=True)
    cap_rank = rank(list(df['market_cap']))
    scores = {}
    for i, code in enumerate(codes):
        scores[code] = (g.weights['pe_ratio'] * pe_rank[i] + g.weights['roe'] * roe_rank[i]
                        + g.weights['market_cap'] * cap_rank[i])
    return sorted(scores, key=scores.get)[:g.hold_num]


def monthly_rebalance(context):
    chosen = score_stocks(context)
    log.info('本月选股: %s' % chosen)
    for stock in list(context.portfolio.positions):
        if stock not in chosen:
            order_target_value(stock, 0)
    each = context.portfolio.total_value * 0.98 / len(chosen)
    for stock in chosen:
        if math.isfinite(each):
            order_target_value(stock, each)
