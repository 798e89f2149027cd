# 网格交易：价格每下跌2%买入一格，每上涨2%卖出一格
from jqdata import *


def initialize(context):
    g.security = '510300.XSHG'
    g.grid = 0.02
    g.lot = 1000
    g.base_price = None
    set_option('use_real_price', True)


def handle_data(context, data):
    price = get_current_data()[g.security].last_price
    if g.base_price is None:
        g.base_price = price
        order(g.security, g.lot * 5)  # 建底仓
        return
    change = price / g.base_price - 1
    if change <= -g.grid:
        order(g.security, g.lot, LimitOrderStyle(price))
        g.base_price = price
    elif change >= g.grid and context.portfolio.positions[g.security].closeable_amount >= g.lot:
        order(g.security, -g.lot, LimitOrderStyle(price))
        g.base_price = price
