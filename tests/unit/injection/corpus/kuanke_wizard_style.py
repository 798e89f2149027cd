# 克隆自聚宽文章：向导式策略生成的代码
# 标题：均线择时 + 市值选股
from kuanke.wizard import *
from jqdata import *
import datetime

## 初始化函数，设定要操作的股票、基准等等
def initialize(context):
    # 设定基准
    set_benchmark('000300.XSHG')
    # 设定滑点
    set_slippage(FixedSlippage(0.02))
    # True为开启动态复权模式，使用真实价格交易
    set_option('use_real_price', True)
    # 设定成交量比例
    set_option('order_volume_ratio', 1)
    # 个股最大持仓比重
    g.security_max_proportion = 1
    # 选股频率
    g.check_stocks_refresh_rate = 1
    # 买入频率
    g.buy_refresh_rate = 1
    # 卖出频率
    g.sell_refresh_rate = 1
    # 最大建仓数量
    g.max_hold_stocknum = 3
    # 选股频率计数器
    g.check_stocks_days = 0
    # 买卖交易频率计数器
    g.buy_trade_days = 0
    g.sell_trade_days = 0
    # 获取未卖出的股票
    g.open_sell_securities = []
    # 卖出股票的dict
    g.selled_security_list = {}
    # 股票筛选初始化函数
    check_stocks_initialize()
    # 出场初始化函数
    sell_initialize()
    # 入场初始化函数
    buy_initialize()
    # 关闭提示
    log.set_level('order', 'info')
    # 运行函数
    run_daily(sell_every_day, 'open')
    run_daily(buy_every_day, 'open')


## 股票筛选初始化函数
def check_stocks_initialize():
    g.filter_paused = True
    g.filter_delisted = True
    g.only_st = False
    g.filter_st = True
    g.security_universe_index = ['000300.XSHG']
    g.security_universe_user_securities = []


## 出场初始化函数
def sell_initialize():
    g.sell_will_buy = False
    g.sell_by_amount = None
    g.sell_by_percent = None


## 入场初始化函数
def buy_initialize():
    g.filter_holded = False
    g.order_style_str = 'by_cap_mean'
    g.order_style_value = 100


## 卖出未卖出成功的股票
def sell_every_day(context):
    g.open_sell_securities = list(set(g.open_sell_securities))
    open_sell_securities = [s for s in context.portfolio.positions.keys() if s in g.open_sell_securities]
    if len(open_sell_securities) > 0:
        for stock in open_sell_securities:
            order_target_value(stock, 0)
    g.open_sell_securities = [s for s in g.open_sell_securities if s in context.portfolio.positions.keys()]
    return


def check_stocks(context):
    if g.check_stocks_days % g.check_stocks_refresh_rate == 0:
        g.check_out_lists = get_index_stocks(g.security_universe_index[0])[:g.max_hold_stocknum]
    g.check_stocks_days = (g.check_stocks_days + 1) % g.check_stocks_refresh_rate
    return g.check_out_lists


## 交易函数
def buy_every_day(context):
    buy_lists = check_stocks(context)
    if g.buy_trade_days % g.buy_refresh_rate == 0:
        Cash = context.portfolio.available_cash
        buy_num = g.max_hold_stocknum - len(context.portfolio.positions)
        if buy_num > 0:
            value = Cash / buy_num
            for stock in buy_lists:
                if stock not in context.portfolio.positions:
                    order_value(stock, value)
        else:
            stock = list(context.portfolio.positions)[0]
            g.open_sell_securities.append(stock)
            order_target_value(stock, 0)
    g.buy_trade_days = (g.buy_trade_days + 1) % g.buy_refresh_rate
