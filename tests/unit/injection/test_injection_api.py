"""The domain API the inject route calls: inject / strip / check, warnings, errors, settings."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

import quantlink.injection as injection_package
from quantlink.errors import ValidationFailed
from quantlink.injection import (
    TOKEN_PLACEHOLDER,
    CheckResult,
    InjectionResult,
    InjectionSyntaxError,
    check,
    inject,
    strip,
)
from quantlink.injection.api import embedded_settings

URL = "https://quantlink.example/api/webhooks/joinquant/st_api"

STRATEGY = dedent(
    """
    from jqdata import *

    def initialize(context):
        run_daily(trade, 'open')

    def trade(context):
        order_target('600000.XSHG', 0)
        if order_value('600036.XSHG', 10000) is None:
            log.warn('failed')
    """
).lstrip()


def test_inject_answers_code_count_and_warnings() -> None:
    result = inject(STRATEGY, webhook_url=URL, token="tok")
    assert isinstance(result, InjectionResult)
    assert result.injected == 2
    assert result.warnings == []
    assert f"QUANTLINK_WEBHOOK_URL = '{URL}'" in result.code
    assert "QUANTLINK_WEBHOOK_TOKEN = 'tok'" in result.code
    assert "QUANTLINK_SEND_IN_BACKTEST = False" in result.code


def test_warnings_name_the_line_in_the_owners_code() -> None:
    code = dedent(
        """
        import functools

        def trade(context):
            buy_all = functools.partial(order_value, '600000.XSHG')
            buy_all(1000)
            order('600000.XSHG', 100)
        """
    ).lstrip()
    (warning,) = inject(code, webhook_url=URL, token="t").warnings
    assert warning.startswith("line 4: `order_value` is passed around")


def test_a_name_that_is_sometimes_joinquants_is_reported_with_a_warning() -> None:
    code = dedent(
        """
        try:
            from jqdata import order_target
        except ImportError:
            def order_target(security, amount):
                return None

        def trade(context):
            order_target('600000.XSHG', 0)
        """
    ).lstrip()
    result = inject(code, webhook_url=URL, token="t")
    assert result.injected == 1
    (warning,) = result.warnings
    assert warning.startswith("line 8: `order_target` is JoinQuant's order function on some paths")


def test_code_without_order_calls_gets_the_positions_report_and_a_warning() -> None:
    result = inject("def initialize(context):\n    pass\n", webhook_url=URL, token="t")
    assert result.injected == 0
    assert "run_daily(quantlink_report_positions, '15:05')" in result.code
    assert any("no call to a JoinQuant order function" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("code", "line", "message"),
    [
        ("def trade(context):\n    order(s, 100\n", 2, "never closed"),
        ("x = 1\nprint 'hello'\n", 2, "Missing parentheses"),
        ("x = 1\n\nreturn x\n", 3, "'return' outside function"),
    ],
    ids=["unclosed parenthesis", "python 2 print", "found when compiling"],
)
def test_code_that_does_not_compile_is_a_clear_domain_error(code: str, line: int, message: str) -> None:
    with pytest.raises(InjectionSyntaxError) as raised:
        inject(code, webhook_url=URL, token="t")
    error = raised.value
    assert isinstance(error, ValidationFailed)  # the API's handler answers 400 VALIDATION_ERROR
    assert (error.code, error.status, error.line) == ("VALIDATION_ERROR", 400, line)
    # the same details shape as every other VALIDATION_ERROR: a list of {field, message}, plus the line
    assert error.details == [{"field": "code", "message": error.reason, "line": line}]
    assert message in error.message and error.message.startswith(f"line {line}: ")
    with pytest.raises(InjectionSyntaxError):
        strip(code.replace("return x", "return x)"))  # strip and check parse too


def test_only_http_webhook_urls_are_embedded() -> None:
    with pytest.raises(ValidationFailed):
        inject(STRATEGY, webhook_url="javascript:alert(1)", token="t")


def test_any_url_and_token_text_becomes_a_safe_ascii_literal() -> None:
    token = 'it\'s "quoted"\n\\ and 中文'
    url = "https://quantlink.example/api/webhooks/joinquant/st_'x'"
    result = inject(STRATEGY, webhook_url=url, token=token)
    result.code.splitlines()[0].encode("ascii")
    runtime_lines = [line for line in result.code.splitlines() if "QUANTLINK_WEBHOOK" in line and " = " in line]
    assert all(line.isascii() for line in runtime_lines)
    settings = embedded_settings(result.code)
    assert (settings.webhook_url, settings.token) == (url, token)
    compile(result.code, "strategy.py", "exec")


def test_the_token_placeholder_is_what_the_api_embeds_without_a_token() -> None:
    assert TOKEN_PLACEHOLDER == "<QUANTLINK_WEBHOOK_TOKEN>"
    injected = inject(STRATEGY, webhook_url=URL, token=TOKEN_PLACEHOLDER).code
    assert f"QUANTLINK_WEBHOOK_TOKEN = '{TOKEN_PLACEHOLDER}'" in injected
    assert check(injected).token_is_placeholder
    assert not check(inject(STRATEGY, webhook_url=URL, token="real").code).token_is_placeholder


# ---- check ---------------------------------------------------------------------------------------


def test_check_code_that_was_never_injected() -> None:
    result = check(STRATEGY)
    assert isinstance(result, CheckResult)
    assert (result.injected, result.stale, result.ok) == (False, False, False)
    assert result.reasons


def test_check_fresh_injection_is_ok_and_reads_its_settings() -> None:
    injected = inject(STRATEGY, webhook_url=URL, token="tok", send_in_backtest=True).code
    result = check(injected, webhook_url=URL)
    assert (result.injected, result.stale, result.ok, result.reasons) == (True, False, True, [])
    assert (result.webhook_url, result.send_in_backtest, result.token_is_placeholder) == (URL, True, False)


def test_check_another_webhook_url_is_stale() -> None:
    injected = inject(STRATEGY, webhook_url=URL, token="tok").code
    result = check(injected, webhook_url=URL + "_other")
    assert result.stale and "not to" in result.reasons[0]


def test_check_an_order_call_added_after_injecting_is_stale() -> None:
    injected = inject(STRATEGY, webhook_url=URL, token="tok").code
    edited = injected.replace(
        "    order_target('600000.XSHG', 0)\n", "    order_target('600000.XSHG', 0)\n    order('1', 1)\n"
    )
    assert edited != injected
    result = check(edited)
    assert result.stale and "order calls changed" in result.reasons[0]
    assert check(inject(edited, webhook_url=URL, token="tok").code).ok  # re-injecting mends it


def test_check_an_older_or_edited_runtime_is_stale() -> None:
    injected = inject(STRATEGY, webhook_url=URL, token="tok").code
    older = injected.replace("QUANTLINK_RUNTIME_VERSION = 1", "QUANTLINK_RUNTIME_VERSION = 0")
    assert any("version 0" in reason for reason in check(older).reasons)
    edited = injected.replace("QUANTLINK_MAX_TRIES = 3", "QUANTLINK_MAX_TRIES = 30")
    assert check(edited).stale and check(edited).reasons == [
        "the injected lines were edited; inject again to restore them"
    ]


def test_strip_of_injected_code_with_a_different_runtime_still_gives_back_the_strategy() -> None:
    injected = inject(STRATEGY, webhook_url=URL, token="tok").code
    edited = injected.replace("QUANTLINK_MAX_TRIES = 3", "QUANTLINK_MAX_TRIES = 30")
    assert strip(edited) == STRATEGY


# ---- The package stays cheap and environment-free ------------------------------------------------


def test_importing_the_package_does_not_import_libcst() -> None:
    probe = "import sys, quantlink.injection; print('libcst' in sys.modules)"
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert answer.stdout.strip() == "False"


def test_the_package_never_reads_the_environment() -> None:
    package = Path(injection_package.__file__).parent
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text())
        names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert not names & {"environ", "getenv"}, source.name
