# 对象的同名方法、字符串和注释里的 order( 都不是聚宽下单
from jqdata import *


class Broker(object):
    def __init__(self):
        self.history = []

    def order(self, security, amount):
        self.history.append((security, amount))
        return len(self.history)

    def buy(self, security):
        return self.order(security, 100)

    def sell(self, security):
        return self.order(security, -100)


def initialize(context):
    g.note = "call order(security, amount) to trade; sell() and buy() too"
    run_daily(trade, 'open')


def trade(context):
    broker = Broker()
    broker.buy('600000.XSHG')   # order(...) in a comment
    broker.sell('600000.XSHG')
    log.info('记录: %s, order_target(s, 0)' % broker.history)
    text = 'order_value("000001.XSHE", 1000)'
    log.info(text)
    order_value('000001.XSHE', 10000)  # the only JoinQuant order here
