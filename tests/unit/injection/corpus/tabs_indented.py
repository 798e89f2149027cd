# 用 Tab 缩进的策略
from jqdata import *


def initialize(context):
	g.stocks = ["600036.XSHG", "000002.XSHE"]
	run_daily(trade, "open")


def trade(context):
	for s in g.stocks:
		if s in context.portfolio.positions:
			order_target(s, 0)	# 清仓
		else:
			order(s, 200)
