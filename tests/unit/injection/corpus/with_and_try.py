# try/except 和 with 语句里的下单
from jqdata import *


class TradeLog(object):
    """进入和退出时打日志的上下文管理器"""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        log.info('开始 %s' % self.name)
        return self

    def __exit__(self, exc_type, exc, tb):
        log.info('结束 %s' % self.name)
        return False


def initialize(context):
    g.security = '000858.XSHE'
    run_daily(trade, '9:31')


def trade(context):
    try:
        order_value(g.security, 20000)
    except Exception as e:
        log.error('下单异常 %s' % e)
    else:
        log.info('下单成功')
    finally:
        log.info('try 结束')
    with TradeLog('减仓'):
        order(g.security, -100)
    with TradeLog('再买') as t:
        if t.name:
            order(g.security, 100)
