"""inject / strip / check: parse once, run the transforms in order, generate once."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider

from quantlink.errors import ValidationFailed
from quantlink.injection.analysis import find_injected, index_order_calls, statement_is_marked
from quantlink.injection.markers import (
    BACKTEST_SETTING,
    MARKER,
    REPORTER,
    TOKEN_PLACEHOLDER,
    TOKEN_SETTING,
    URL_PLACEHOLDER,
    URL_SETTING,
    VERSION_SETTING,
)
from quantlink.injection.results import CheckResult, InjectionResult, InjectionSyntaxError
from quantlink.injection.runtime import RUNTIME_VERSION, runtime_statements
from quantlink.injection.transforms import (
    InsertRuntime,
    LineWarning,
    RegisterPositionReporter,
    ReportOrderCalls,
    StripInjection,
)

_SETTING = m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name())])])


def _python_syntax_error(code: str) -> SyntaxError | None:
    try:
        compile(code, "<strategy>", "exec", dont_inherit=True)
    except SyntaxError as error:
        return error
    except ValueError as error:  # e.g. a NUL byte
        return SyntaxError(str(error))
    return None


def parse(code: str) -> cst.Module:
    try:
        return cst.parse_module(code)
    except cst.ParserSyntaxError as error:
        # Python's own message ("'(' was never closed") reads better than the parser's.
        python = _python_syntax_error(code)
        if python is not None and python.lineno:
            raise InjectionSyntaxError(python.lineno, python.msg) from None
        raise InjectionSyntaxError(error.raw_line, error.message) from None


def _strip(module: cst.Module, code: str) -> cst.Module:
    if MARKER not in code and REPORTER not in code:
        return module  # nothing of ours can be in it: skip the pass
    found = find_injected(module)
    return module.visit(StripInjection(found.spine)) if found.found else module


def _ensure_compiles(output: str, original: str) -> None:
    # What the owner pastes into JoinQuant must compile: code that did not compile before is the
    # owner's to fix (a clear line, never a traceback); anything else would be our bug.
    if _python_syntax_error(output) is None:
        return
    mistake = _python_syntax_error(original)
    if mistake is not None:
        raise InjectionSyntaxError(mistake.lineno or 1, mistake.msg)
    raise RuntimeError("the injected code does not compile; the strategy was left unchanged")


def _located(module: cst.Module, warnings: Sequence[LineWarning]) -> list[str]:
    """`line N: message`, N being the line in the owner's own code (`module`, before injection)."""
    lines: dict[int, int] = {}
    anchors = [node for node, _ in warnings if node is not None]
    if anchors:  # positions cost a pass over the tree: only when there is something to place
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        lines = {id(node): positions[node].start.line for node in anchors if node in positions}
    return [
        f"line {lines[id(node)]}: {text}" if node is not None and id(node) in lines else text for node, text in warnings
    ]


def _check_url(webhook_url: str) -> None:
    if webhook_url != URL_PLACEHOLDER and not webhook_url.startswith(("https://", "http://")):
        raise ValidationFailed(f"the webhook URL must be an http(s) URL (got {webhook_url!r})")


TOKEN_PLACEHOLDER_WARNING = (
    f"{TOKEN_PLACEHOLDER} stands where the webhook token belongs: until you replace it with this strategy's "
    "webhook token, QuantLink refuses every order the strategy sends (401) and no terminal receives anything"
)


def placeholder_warnings(*, webhook_url: str, token: str) -> list[str]:
    """What an owner must do before code with a placeholder can send anything (CLI and API alike)."""
    warnings = []
    if webhook_url == URL_PLACEHOLDER:
        warnings.append(
            f"{URL_PLACEHOLDER} stands where the webhook URL belongs: replace it with the strategy's webhook URL "
            "before you run the strategy, or nothing can be sent"
        )
    if token == TOKEN_PLACEHOLDER:
        warnings.append(TOKEN_PLACEHOLDER_WARNING)
    return warnings


def inject(code: str, *, webhook_url: str, token: str, send_in_backtest: bool = False) -> InjectionResult:
    _check_url(webhook_url)
    own = _strip(parse(code), code)
    index = index_order_calls(own)
    module = own.visit(ReportOrderCalls(index))
    register = RegisterPositionReporter(index.module_names)
    module = module.visit(register)
    module = module.visit(InsertRuntime(runtime_statements(webhook_url, token, send_in_backtest)))
    output = module.code
    _ensure_compiles(output, code)
    warnings = _located(own, [*index.warnings, *register.warnings])
    if not index.calls:
        warnings.append(
            "no call to a JoinQuant order function (order, order_target, order_value, ...) was found: "
            "only the daily positions report was added"
        )
    return InjectionResult(code=output, injected=len(index.calls), warnings=warnings)


def strip(code: str) -> str:
    return _strip(parse(code), code).code


def sender_block(*, webhook_url: str, token: str, send_in_backtest: bool = False) -> str:
    """The runtime alone, exactly as `inject` inserts it (marked lines, same settings), for owners who
    integrate by hand: paste it below the imports, call `send_signal_to_quantlink(context, "<fn>")` after
    each order, and `run_daily(quantlink_report_positions, '15:05')` in `initialize`."""
    _check_url(webhook_url)
    # Every top-level statement is a simple line or a compound statement: the narrower type Module wants.
    statements = cast(
        list[cst.SimpleStatementLine | cst.BaseCompoundStatement],
        runtime_statements(webhook_url, token, send_in_backtest),
    )
    return cst.Module(body=statements).code


@dataclass(frozen=True)
class EmbeddedSettings:
    """The settings an earlier injection left in the code (None where there are none)."""

    webhook_url: str | None = None
    token: str | None = None
    send_in_backtest: bool = False
    version: object = None


def _embedded(module: cst.Module) -> EmbeddedSettings:
    found: dict[str, object] = {}
    for statement in module.body:
        if statement_is_marked(statement) and m.matches(statement, _SETTING):
            assign = cst.ensure_type(cst.ensure_type(statement, cst.SimpleStatementLine).body[0], cst.Assign)
            name = cst.ensure_type(assign.targets[0].target, cst.Name).value
            try:
                found[name] = ast.literal_eval(module.code_for_node(assign.value))
            except (ValueError, SyntaxError):
                found[name] = None
    url, token = found.get(URL_SETTING), found.get(TOKEN_SETTING)
    return EmbeddedSettings(
        webhook_url=url if isinstance(url, str) else None,
        token=token if isinstance(token, str) else None,
        send_in_backtest=found.get(BACKTEST_SETTING) is True,
        version=found.get(VERSION_SETTING),
    )


def embedded_settings(code: str) -> EmbeddedSettings:
    return _embedded(parse(code))


def check(code: str, *, webhook_url: str | None = None) -> CheckResult:
    module = parse(code)
    found = find_injected(module)
    if not found.found:
        return CheckResult(injected=False, stale=False, reasons=["the code carries no QuantLink injection"])
    settings = _embedded(module)
    reasons: list[str] = []
    if settings.webhook_url is None or settings.token is None:
        reasons.append("the QuantLink runtime is missing or was edited (no webhook URL or token setting)")
    url = settings.webhook_url or URL_PLACEHOLDER
    token = settings.token or TOKEN_PLACEHOLDER
    if webhook_url is not None and url != webhook_url:
        reasons.append(f"it sends to {url}, not to {webhook_url}")
    if settings.version != RUNTIME_VERSION:
        reasons.append(f"its runtime is version {settings.version}; the current one is {RUNTIME_VERSION}")
    backtest = settings.send_in_backtest
    fresh = inject(strip(code), webhook_url=url, token=token, send_in_backtest=backtest).code
    if fresh != code:
        now = find_injected(parse(fresh))
        if (now.marked_lines, now.wrapped_calls) != (found.marked_lines, found.wrapped_calls):
            reasons.append("the order calls changed since it was injected: some are not reported (inject again)")
        elif not reasons:
            reasons.append("the injected lines were edited; inject again to restore them")
    return CheckResult(
        injected=True,
        stale=bool(reasons),
        reasons=reasons,
        cannot_send=placeholder_warnings(webhook_url=url, token=token),
        webhook_url=url,
        token_is_placeholder=token == TOKEN_PLACEHOLDER,
        send_in_backtest=backtest,
        url_is_placeholder=url == URL_PLACEHOLDER,
    )
