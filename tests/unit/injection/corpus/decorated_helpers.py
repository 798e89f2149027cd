# 带装饰器的下单辅助函数
from jqdata import *
import functools


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        log.info('调用 %s' % fn.__name__)
        return fn(*args, **kwargs)
    return wrapper


def initialize(context):
    g.security = '600519.XSHG'
    run_daily(trade, 'open')


@logged
def enter(context, security):
    order_target_value(security, context.portfolio.total_value * 0.1)


@logged
def leave(context, security):
    order_target(security, 0)


def trade(context):
    if g.security in context.portfolio.positions:
        leave(context, g.security)
    else:
        enter(context, g.security)
