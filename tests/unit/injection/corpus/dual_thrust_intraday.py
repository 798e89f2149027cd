# Dual Thrust 日内突破（分钟频率）
from jqdata import *


def initialize(context):
    g.security = '000002.XSHE'
    g.k1, g.k2 = 0.5, 0.5
    g.lookback = 4


def process_initialize(context):
    g.__range = None  # 以 __ 开头的不会被保存，每次进程启动重新计算


def compute_range():
    bars = attribute_history(g.security, g.lookback, '1d', ['high', 'low', 'close'])
    hh, lc = max(bars['high']), min(bars['close'])
    hc, ll = max(bars['close']), min(bars['low'])
    return max(hh - lc, hc - ll)


def handle_data(context, data):
    if g.__range is None:
        g.__range = compute_range()
    today_open = get_current_data()[g.security].day_open
    price = get_current_data()[g.security].last_price
    buy_line = today_open + g.k1 * g.__range * 0.01
    sell_line = today_open - g.k2 * g.__range * 0.01
    held = context.portfolio.positions[g.security].total_amount
    if price > buy_line and held == 0:
        order_value(g.security, context.portfolio.available_cash * 0.9)
    elif price < sell_line and held > 0:
        order_target(g.security, 0)
    elif context.current_dt.strftime('%H:%M') >= '14:55' and held > 0:
        order_target(g.security, 0)
    elif held == 0 and context.current_dt.minute % 2 == 1:
        order(g.security, 100)
