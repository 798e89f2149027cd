# 分钟级均线交叉（日内）
from jqdata import *


def initialize(context):
    g.security = '600519.XSHG'
    g.short, g.long = 5, 20
    set_option('use_real_price', True)


def handle_data(context, data):
    closes = attribute_history(g.security, g.long, '1m', ['close'])['close']
    short_ma = sum(closes[-g.short:]) / g.short
    long_ma = closes.mean()
    position = context.portfolio.positions.get(g.security)
    held = position.total_amount if position else 0
    if short_ma > long_ma and held == 0:
        order_target_percent(g.security, 0.5)
    elif short_ma < long_ma and held > 0:
        order_target(g.security, 0)
    elif context.current_dt.hour == 14 and context.current_dt.minute >= 55 and held > 0:
        # 尾盘清仓，不留隔夜仓
        order_target(g.security, 0)
    elif held == 0:
        order_target_percent(g.security, 0.1)
