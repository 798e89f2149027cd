# 小市值策略：每周一选市值最小的5只股票
from jqdata import *


def initialize(context):
    set_benchmark('000905.XSHG')
    set_option('use_real_price', True)
    g.buy_count = 5
    run_weekly(weekly_adjust, 1, time='9:40')


def get_small_caps(context):
    q = query(valuation.code, valuation.market_cap).filter(
        valuation.market_cap > 10,
        valuation.pe_ratio > 0,
    ).order_by(valuation.market_cap.asc()).limit(g.buy_count * 2)
    df = get_fundamentals(q)
    current_data = get_current_data()
    result = []
    for code in df['code']:
        info = get_security_info(code)
        if 'ST' in info.display_name or current_data[code].paused:
            continue
        # 涨停的不买
        if current_data[code].last_price >= current_data[code].high_limit:
            continue
        result.append(code)
    return result[:g.buy_count]


def weekly_adjust(context):
    target = get_small_caps(context)
    for stock in context.portfolio.positions:
        if stock not in target:
            order_target(stock, 0)
    holding = len(context.portfolio.positions)
    if holding < g.buy_count:
        cash = context.portfolio.available_cash / (g.buy_count - holding)
        for stock in target:
            if stock not in context.portfolio.positions:
                order_value(stock, cash)
