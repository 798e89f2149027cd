# 只有 handle_data 的最简策略（没有 initialize）
def handle_data(context, data):
    security = '000001.XSHE'
    if security not in context.portfolio.positions:
        order(security, 1000)
    else:
        order_target(security, 0)
