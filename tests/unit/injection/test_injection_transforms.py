"""Codemod tests in the LibCST style: dedented before/after pairs, one transformer at a time.

Every pair also checks, through the public API, that injecting is idempotent and that stripping
gives back the exact input, and that stripping what the one transformer produced gives back the
input too (strip handles a partial injection as well as a full one).
"""

from __future__ import annotations

from textwrap import dedent

import libcst as cst
import pytest

from quantlink.injection import inject, strip
from quantlink.injection.analysis import index_order_calls
from quantlink.injection.transforms import InsertRuntime, RegisterPositionReporter, ReportOrderCalls

URL = "https://quantlink.example/api/webhooks/joinquant/st_test"
M = "# quantlink:injected"


def report_order_calls(code: str) -> str:
    module = cst.parse_module(code)
    return module.visit(ReportOrderCalls(index_order_calls(module))).code


def register_position_reporter(code: str) -> tuple[str, list[str]]:
    module = cst.parse_module(code)
    transform = RegisterPositionReporter(index_order_calls(module).module_names)
    return module.visit(transform).code, [text for _, text in transform.warnings]


def insert_stub_runtime(code: str) -> str:
    stub = cst.parse_module(f"QUANTLINK_STUB = 1  {M}\n").body
    return cst.parse_module(code).visit(InsertRuntime(stub)).code


def assert_round_trips(before: str, after_one_concern: str) -> None:
    injected = inject(before, webhook_url=URL, token="t").code
    assert inject(injected, webhook_url=URL, token="t").code == injected
    assert strip(injected) == before
    assert strip(after_one_concern) == before
    compile(injected, "strategy.py", "exec")


REPORT_CASES: dict[str, tuple[str, str]] = {
    "statement: a report line after it": (
        """
        def trade(context):
            order('600000.XSHG', 100)  # 买入
            log.info('done')
        """,
        f"""
        def trade(context):
            order('600000.XSHG', 100)  # 买入
            send_signal_to_quantlink(context, 'order')  {M}
            log.info('done')
        """,
    ),
    "no-op: methods, strings and comments are not JoinQuant calls": (
        """
        def trade(context):
            broker.order('600000.XSHG', 100)
            self.buy('600000.XSHG')
            portfolio.sell(1)
            log.info("order('600000.XSHG', 100)")  # order_target(s, 0)
            text = '''order_value(s, 1)'''
            keyword_only(order=1, buy=2)
        """,
        """
        def trade(context):
            broker.order('600000.XSHG', 100)
            self.buy('600000.XSHG')
            portfolio.sell(1)
            log.info("order('600000.XSHG', 100)")  # order_target(s, 0)
            text = '''order_value(s, 1)'''
            keyword_only(order=1, buy=2)
        """,
    ),
    "every order function is recognised": (
        """
        def trade(context):
            order_target(s, 0)
            order_value(s, 1000)
            order_target_value(s, 1000)
            order_target_percent(s, 0.1)
            order_to(s, 100)
            order_shares(s, 100)
            buy(s, 100)
            sell(s, 100)
        """,
        f"""
        def trade(context):
            order_target(s, 0)
            send_signal_to_quantlink(context, 'order_target')  {M}
            order_value(s, 1000)
            send_signal_to_quantlink(context, 'order_value')  {M}
            order_target_value(s, 1000)
            send_signal_to_quantlink(context, 'order_target_value')  {M}
            order_target_percent(s, 0.1)
            send_signal_to_quantlink(context, 'order_target_percent')  {M}
            order_to(s, 100)
            send_signal_to_quantlink(context, 'order_to')  {M}
            order_shares(s, 100)
            send_signal_to_quantlink(context, 'order_shares')  {M}
            buy(s, 100)
            send_signal_to_quantlink(context, 'buy')  {M}
            sell(s, 100)
            send_signal_to_quantlink(context, 'sell')  {M}
        """,
    ),
    "assignment, multi-line call and the arguments are never evaluated again": (
        """
        def trade(context):
            result = order_value(
                g.security,
                context.portfolio.available_cash,  # changes once the order is placed
            )
            return result
        """,
        f"""
        def trade(context):
            result = order_value(
                g.security,
                context.portfolio.available_cash,  # changes once the order is placed
            )
            send_signal_to_quantlink(context, 'order_value')  {M}
            return result
        """,
    ),
    "two calls on one line: one report (fn unknown when they differ)": (
        """
        def trade(context):
            order_target(a, 0); order_value(b, 100)
            order(a, 1); order(b, 2)
        """,
        f"""
        def trade(context):
            order_target(a, 0); order_value(b, 100)
            send_signal_to_quantlink(context, None)  {M}
            order(a, 1); order(b, 2)
            send_signal_to_quantlink(context, 'order')  {M}
        """,
    ),
    "return: the call is wrapped, its value passes through": (
        """
        def try_buy(security):
            return order(security, 100)
        """,
        """
        def try_buy(security):
            return send_signal_to_quantlink(None, 'order', order(security, 100))
        """,
    ),
    "if / elif / while conditions are wrapped, bodies get lines": (
        """
        def trade(context):
            if order(s, 100) is None:
                order_target(s, 0)
            elif order_value(s, 1) and x:
                pass
            while n < 3 and order(s, 100) is not None:
                n += 1
        """,
        f"""
        def trade(context):
            if send_signal_to_quantlink(context, 'order', order(s, 100)) is None:
                order_target(s, 0)
                send_signal_to_quantlink(context, 'order_target')  {M}
            elif send_signal_to_quantlink(context, 'order_value', order_value(s, 1)) and x:
                pass
            while n < 3 and send_signal_to_quantlink(context, 'order', order(s, 100)) is not None:
                n += 1
        """,
    ),
    "one-line suites: no line can go inside, so the calls are wrapped": (
        """
        def trade(context):
            for s in pool: order(s, 100)
            if cash < 1: order_target(s, 0)
            else: order_value(s, 1); log.info('x')
        """,
        """
        def trade(context):
            for s in pool: send_signal_to_quantlink(context, 'order', order(s, 100))
            if cash < 1: send_signal_to_quantlink(context, 'order_target', order_target(s, 0))
            else: send_signal_to_quantlink(context, 'order_value', order_value(s, 1)); log.info('x')
        """,
    ),
    "lambda and generator expression run later: wrapped; list comprehension: a line after": (
        """
        def trade(context):
            orders = list(map(lambda s: order_value(s, 1000), pool))
            failed = any(order_target(s, 0) is None for s in pool)
            done = [order(s, 100) for s in pool]
        """,
        f"""
        def trade(context):
            orders = list(map(lambda s: send_signal_to_quantlink(context, 'order_value', order_value(s, 1000)), pool))
            failed = any(send_signal_to_quantlink(context, 'order_target', order_target(s, 0)) is None for s in pool)
            done = [order(s, 100) for s in pool]
            send_signal_to_quantlink(context, 'order')  {M}
        """,
    ),
    "with and try: lines inside their bodies, `with` items wrapped": (
        """
        def trade(context):
            try:
                order(s, 100)
            except Exception:
                order_target(s, 0)
            finally:
                log.info('x')
            with lock(order(s, 1)):
                order(s, -100)
        """,
        f"""
        def trade(context):
            try:
                order(s, 100)
                send_signal_to_quantlink(context, 'order')  {M}
            except Exception:
                order_target(s, 0)
                send_signal_to_quantlink(context, 'order_target')  {M}
            finally:
                log.info('x')
            with lock(send_signal_to_quantlink(context, 'order', order(s, 1))):
                order(s, -100)
                send_signal_to_quantlink(context, 'order')  {M}
        """,
    ),
    "raise, assert, yield and decorators: wrapped": (
        """
        def trade(context):
            assert order(s, 1) is not None
            raise Stop(order_target(s, 0))

        def orders(context):
            yield order(s, 1)

        @every(order(s, 1))
        def f(context):
            pass
        """,
        """
        def trade(context):
            assert send_signal_to_quantlink(context, 'order', order(s, 1)) is not None
            raise Stop(send_signal_to_quantlink(context, 'order_target', order_target(s, 0)))

        def orders(context):
            yield send_signal_to_quantlink(context, 'order', order(s, 1))

        @every(send_signal_to_quantlink(None, 'order', order(s, 1)))
        def f(context):
            pass
        """,
    ),
    "f-string: no quotes added inside it": (
        """
        def describe(s):
            return f"bought {order(s, 100)}"
        """,
        """
        def describe(s):
            return f"bought {send_signal_to_quantlink(None, None, order(s, 100))}"
        """,
    ),
    "the strategy's own buy/sell: calls to them are left alone, the orders inside reported": (
        """
        def buy(context, stocks):
            for s in stocks:
                order_value(s, 1000)

        def trade(context):
            buy(context, pool)
        """,
        f"""
        def buy(context, stocks):
            for s in stocks:
                order_value(s, 1000)
                send_signal_to_quantlink(context, 'order_value')  {M}

        def trade(context):
            buy(context, pool)
        """,
    ),
    "a same-name wrapper: reported inside (through the alias it kept), not where it is called": (
        """
        _jq_order_target_value = order_target_value

        def order_target_value(security, value):
            log.info(security)
            return _jq_order_target_value(security, value)

        def trade(context):
            order_target_value('600000.XSHG', 1000)
        """,
        """
        _jq_order_target_value = order_target_value

        def order_target_value(security, value):
            log.info(security)
            return send_signal_to_quantlink(None, 'order_target_value', _jq_order_target_value(security, value))

        def trade(context):
            order_target_value('600000.XSHG', 1000)
        """,
    ),
    "shadowed by a parameter, a local, a loop variable or an import: no-op": (
        """
        from mybroker import sell

        def run(order, s):
            order(s)

        def after_trading_end(context):
            for order in get_orders().values():
                log.info(order)
            buy = make_buyer()
            buy(1)
            sell(2)
        """,
        """
        from mybroker import sell

        def run(order, s):
            order(s)

        def after_trading_end(context):
            for order in get_orders().values():
                log.info(order)
            buy = make_buyer()
            buy(1)
            sell(2)
        """,
    ),
    "aliases from JoinQuant's modules are reported as the function they copy": (
        """
        from jqdata import order_target as ot
        ORDER = order_value

        def trade(context):
            ot(s, 0)
            ORDER(s, 100)
        """,
        f"""
        from jqdata import order_target as ot
        ORDER = order_value

        def trade(context):
            ot(s, 0)
            send_signal_to_quantlink(context, 'order_target')  {M}
            ORDER(s, 100)
            send_signal_to_quantlink(context, 'order_value')  {M}
        """,
    ),
    "class bodies do not shadow for their methods; context only when it is a parameter": (
        """
        class Trader:
            def buy(self):
                return 1

            def run(self, context):
                buy(s, 100)

            def helper(self):
                sell(s, 100)
        """,
        f"""
        class Trader:
            def buy(self):
                return 1

            def run(self, context):
                buy(s, 100)
                send_signal_to_quantlink(context, 'buy')  {M}

            def helper(self):
                sell(s, 100)
                send_signal_to_quantlink(None, 'sell')  {M}
        """,
    ),
    "a closure sees the enclosing context parameter": (
        """
        def make(context):
            def one(s):
                order(s, 100)
            return one
        """,
        f"""
        def make(context):
            def one(s):
                order(s, 100)
                send_signal_to_quantlink(context, 'order')  {M}
            return one
        """,
    ),
    "a closure that binds its own context gets None, never a name that could be unbound": (
        """
        def make(context):
            def one(s):
                order(s, 100)
                context = None
            return one
        """,
        f"""
        def make(context):
            def one(s):
                order(s, 100)
                send_signal_to_quantlink(None, 'order')  {M}
                context = None
            return one
        """,
    ),
}


def _pair(name: str) -> tuple[str, str]:
    before, after = REPORT_CASES[name]
    return dedent(before).lstrip("\n"), dedent(after).lstrip("\n")


@pytest.mark.parametrize("name", list(REPORT_CASES))
def test_report_order_calls(name: str) -> None:
    before, after = _pair(name)
    assert report_order_calls(before) == after
    assert_round_trips(before, after)


def test_report_keeps_crlf_tabs_and_a_missing_final_newline() -> None:
    before = "def trade(context):\r\n\tif x:\r\n\t\torder(s, 100)\r\n\tlog.info(1)  # 完"
    after = (
        "def trade(context):\r\n\tif x:\r\n\t\torder(s, 100)\r\n"
        f"\t\tsend_signal_to_quantlink(context, 'order')  {M}\r\n\tlog.info(1)  # 完"
    )
    assert report_order_calls(before) == after
    assert_round_trips(before, after)


def test_report_keeps_comments_around_the_inserted_line() -> None:
    before = dedent(
        """
        def trade(context):
            # 买入前
            order(s, 100)   # 行尾注释
            # 买入后

            # 块尾注释
        # 模块注释
        """
    ).lstrip("\n")
    after = report_order_calls(before)
    assert after == before.replace("# 行尾注释\n", f"# 行尾注释\n    send_signal_to_quantlink(context, 'order')  {M}\n")
    assert_round_trips(before, after)


# ---- StripInjection ------------------------------------------------------------------------------


def test_strip_is_a_no_op_on_code_that_was_never_injected() -> None:
    code = dedent(
        """
        # send_signal_to_quantlink is mentioned in a comment only
        def trade(context):
            order(s, 100)  # quantlink (not the marker)
        """
    )
    assert strip(code) == code


def test_strip_keeps_a_comment_the_owner_wrote_above_an_injected_line() -> None:
    injected = dedent(
        f"""
        def trade(context):
            order(s, 100)
            # the owner's note, added after injecting
            send_signal_to_quantlink(context, 'order')  {M}
            log.info(1)
        """
    )
    assert strip(injected) == dedent(
        """
        def trade(context):
            order(s, 100)
            # the owner's note, added after injecting
            log.info(1)
        """
    )


def test_strip_leaves_a_block_that_only_held_injected_lines_compiling() -> None:
    injected = f"def trade(context):\n    send_signal_to_quantlink(context, 'order')  {M}\n"
    stripped = strip(injected)
    assert stripped == "def trade(context):\n    pass\n"
    compile(stripped, "strategy.py", "exec")


def test_strip_unwraps_only_the_reporter_call_form() -> None:
    injected = "x = send_signal_to_quantlink(context, 'order', (order(s, 1)))\ny = send_signal_to_quantlink(1)\n"
    assert strip(injected) == "x = (order(s, 1))\ny = send_signal_to_quantlink(1)\n"


# ---- InsertRuntime -------------------------------------------------------------------------------

RUNTIME_PLACES: dict[str, tuple[str, str]] = {
    "after the docstring and the leading imports, __future__ first": (
        '''
        #!/usr/bin/env python
        # -*- coding: utf-8 -*-
        """策略说明"""
        from __future__ import division
        import math
        from jqdata import *

        def initialize(context):
            pass
        ''',
        f'''
        #!/usr/bin/env python
        # -*- coding: utf-8 -*-
        """策略说明"""
        from __future__ import division
        import math
        from jqdata import *
        QUANTLINK_STUB = 1  {M}

        def initialize(context):
            pass
        ''',
    ),
    "after a star import that comes later": (
        """
        import math
        X = 1
        from kuanke.wizard import *

        def initialize(context):
            pass
        """,
        f"""
        import math
        X = 1
        from kuanke.wizard import *
        QUANTLINK_STUB = 1  {M}

        def initialize(context):
            pass
        """,
    ),
    "before the first statement of code with neither docstring nor imports (its header stays first)": (
        """
        # 注释
        def initialize(context):
            pass
        """,
        f"""
        # 注释
        QUANTLINK_STUB = 1  {M}
        def initialize(context):
            pass
        """,
    ),
}


@pytest.mark.parametrize("name", list(RUNTIME_PLACES))
def test_insert_runtime(name: str) -> None:
    before, after = (dedent(text).lstrip("\n") for text in RUNTIME_PLACES[name])
    assert insert_stub_runtime(before) == after
    assert_round_trips(before, after)


def test_insert_runtime_into_an_empty_module() -> None:
    assert insert_stub_runtime("") == f"QUANTLINK_STUB = 1  {M}"  # an empty file has no final newline
    assert strip(inject("", webhook_url=URL, token="t").code) == ""


def test_the_real_runtime_goes_where_the_stub_goes_and_exactly_once() -> None:
    before = '"""doc"""\nfrom jqdata import *\n\ndef initialize(context):\n    pass\n'
    injected = inject(inject(before, webhook_url=URL, token="t").code, webhook_url=URL, token="t").code
    lines = injected.splitlines()
    assert lines[:2] == ['"""doc"""', "from jqdata import *"]
    assert lines[2].startswith("# ---- QuantLink:") and lines[2].endswith(M)
    assert injected.count("def send_signal_to_quantlink(") == 1
    assert injected.count("QUANTLINK_WEBHOOK_URL = ") == 1


# ---- RegisterPositionReporter --------------------------------------------------------------------

REGISTRATIONS: dict[str, tuple[str, str]] = {
    "first statement of initialize": (
        """
        def initialize(context):
            # 设定基准
            set_benchmark('000300.XSHG')
        """,
        f"""
        def initialize(context):
            run_daily(quantlink_report_positions, '15:05')  {M}
            # 设定基准
            set_benchmark('000300.XSHG')
        """,
    ),
    "after initialize's docstring, in the last definition": (
        '''
        def initialize(context):
            pass

        def initialize(context):
            """初始化"""
            g.x = 1
        ''',
        f'''
        def initialize(context):
            pass

        def initialize(context):
            """初始化"""
            run_daily(quantlink_report_positions, '15:05')  {M}
            g.x = 1
        ''',
    ),
    "initialize created when missing": (
        """
        def handle_data(context, data):
            pass
        """,
        f"""
        def handle_data(context, data):
            pass
        def initialize(context):  {M}
            run_daily(quantlink_report_positions, '15:05')  {M}
        """,
    ),
    "no-op: the owner registered it already": (
        """
        def initialize(context):
            run_daily(quantlink_report_positions, '15:10')
        """,
        """
        def initialize(context):
            run_daily(quantlink_report_positions, '15:10')
        """,
    ),
}


@pytest.mark.parametrize("name", list(REGISTRATIONS))
def test_register_position_reporter(name: str) -> None:
    before, after = (dedent(text).lstrip("\n") for text in REGISTRATIONS[name])
    registered, warnings = register_position_reporter(before)
    assert registered == after
    assert warnings == []
    assert_round_trips(before, after)


@pytest.mark.parametrize(
    "code",
    [
        "def initialize(context): g.x = 1\n",
        "try:\n    def initialize(context):\n        pass\nexcept Exception:\n    pass\n",
    ],
    ids=["one-line initialize", "initialize not at the top level"],
)
def test_register_warns_instead_of_guessing(code: str) -> None:
    registered, warnings = register_position_reporter(code)
    assert registered == code  # nothing added, and no second initialize that would replace the owner's
    assert len(warnings) == 1 and "run_daily(quantlink_report_positions, '15:05')" in warnings[0]
