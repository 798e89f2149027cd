from jqdata import *


def initialize(context):
    g.core = '510300.XSHG'
    g.satellite = ['510500.XSHG', '159915.XSHE']
    run_monthly(core_rebalance, 1, 'open')
    run_weekly(satellite_rebalance, 1, '10:00')
    run_daily(risk_check, '14:30')


def core_rebalance(context):
    order_target_value(g.core, context.portfolio.total_value * 0.6)


def satellite_rebalance(context):
    for etf in g.satellite:
        order_target_value(etf, context.portfolio.total_value * 0.15)


def risk_check(context):
    total = context.portfolio.total_value
    if total < context.portfolio.starting_cash * 0.9:
        for etf in list(context.portfolio.positions):
            order_target(etf, 0)
