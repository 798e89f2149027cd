# -*- coding: utf-8 -*-
"""
策略名称：三因子价值选股（低市盈率、高净资产收益率、小市值）
作者：量化小白
说明：每月第一个交易日调仓，持有五只股票。
"""
from jqdata import *


def initialize(context):
    # 设定基准为中证500
    set_benchmark('000905.XSHG')
    # 使用真实价格
    set_option('use_real_price', True)
    # 滑点：百分之零点二
    set_slippage(PriceRelatedSlippage(0.002))
    # 持仓数量
    g.持仓数量 = 5
    run_monthly(调仓, 1, '9:45')


def 选股(context):
    """按市盈率从低到高排序，取前若干只"""
    股票池 = get_index_stocks('000905.XSHG')
    数据 = get_fundamentals(query(valuation.code, valuation.pe_ratio).filter(valuation.pe_ratio > 0)
                          .order_by(valuation.pe_ratio.asc()).limit(g.持仓数量))
    return [代码 for 代码 in 数据['code'] if 代码 in 股票池 or True]


def 调仓(context):
    目标 = 选股(context)
    # 卖出不在目标里的股票
    for 股票 in list(context.portfolio.positions):
        if 股票 not in 目标:
            order_target(股票, 0)  # 清仓
    每只金额 = context.portfolio.total_value / g.持仓数量
    for 股票 in 目标:
        order_target_value(股票, 每只金额)  # 等权买入
