"""The injection's libcst transformers, one per concern.

- `StripInjection`: removes what an earlier injection added (marked lines, wrapped calls).
- `ReportOrderCalls`: reports every JoinQuant order call, by a line after its statement or, where no
  line can follow the call, by wrapping the call.
- `InsertRuntime`: puts the runtime near the top of the module.
- `RegisterPositionReporter`: registers the daily positions reporter in `initialize(context)`.

The first two visit only the spine their analysis pass found (see analysis.py); the last two look
at the module's own statement list only. Everything they do not change is handed back as it was,
which is what keeps `strip(inject(code)) == code` byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence, Set

import libcst as cst
import libcst.matchers as m

from quantlink.injection.analysis import (
    OrderCall,
    OrderCallIndex,
    is_marked,
    leading_lines,
    statement_is_marked,
)
from quantlink.injection.markers import MARKER, POSITION_REPORT_TIME, POSITION_REPORTER, REPORTER

DOCSTRING = m.SimpleStatementLine(body=[m.Expr(m.SimpleString() | m.ConcatenatedString())])
IMPORTS = m.SimpleStatementLine(body=[m.AtLeastN(m.Import() | m.ImportFrom(), n=1)])
STAR_IMPORT = m.SimpleStatementLine(body=[m.ZeroOrMore(), m.ImportFrom(names=m.ImportStar()), m.ZeroOrMore()])
WRAPPED_CALL = m.Call(func=m.Name(REPORTER), args=[m.DoNotCare(), m.DoNotCare(), m.DoNotCare()])
INITIALIZE = m.FunctionDef(name=m.Name("initialize"))
POSITIONS_REGISTRATION = m.SimpleStatementLine(
    body=[m.Expr(m.Call(func=m.Name("run_daily"), args=[m.Arg(m.Name(POSITION_REPORTER)), m.ZeroOrMore()]))]
)

# A warning before its line is known: the node to name the line of (None: no single line), the text.
LineWarning = tuple[cst.CSTNode | None, str]


def _marked_line(expression: cst.BaseExpression) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(
        body=[cst.Expr(expression)],
        trailing_whitespace=cst.TrailingWhitespace(whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment(MARKER)),
    )


def _args(*values: cst.BaseExpression) -> list[cst.Arg]:
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return [
        cst.Arg(value, comma=comma if i < len(values) - 1 else cst.MaybeSentinel.DEFAULT)
        for i, value in enumerate(values)
    ]


class _SpineTransformer(cst.CSTTransformer):
    """Visits only the nodes on the spine an analysis pass recorded."""

    def __init__(self, spine: Set[int]) -> None:
        super().__init__()
        self._spine = spine

    def on_visit(self, node: cst.CSTNode) -> bool:
        return id(node) in self._spine and super().on_visit(node)


class StripInjection(_SpineTransformer):
    """Removes every marked line and unwraps every wrapped order call.

    A user comment that ended up above a marked line is kept (moved to the next statement), and a
    block left empty gets `pass`, so stripping hand-edited code still compiles.
    """

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:  # noqa: N802 - libcst's naming
        if m.matches(updated_node, WRAPPED_CALL):
            return updated_node.args[2].value
        return updated_node

    def leave_IndentedBlock(  # noqa: N802 - libcst's naming
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        if id(original_node) not in self._spine:
            return updated_node  # libcst calls leave for every child of a visited node too
        body, footer = self._without_marked(updated_node.body, updated_node.footer)
        return updated_node.with_changes(body=body or [cst.SimpleStatementLine(body=[cst.Pass()])], footer=footer)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:  # noqa: N802 - libcst's naming
        body, footer = self._without_marked(updated_node.body, updated_node.footer)
        header = [line for line in updated_node.header if not is_marked(line.comment)]
        return updated_node.with_changes(header=header, body=body, footer=footer)

    @staticmethod
    def _without_marked(
        body: Sequence[cst.BaseStatement], footer: Sequence[cst.EmptyLine]
    ) -> tuple[list[cst.BaseStatement], list[cst.EmptyLine]]:
        kept: list[cst.BaseStatement] = []
        carried: list[cst.EmptyLine] = []  # the user's lines above a removed statement
        for statement in body:
            lines = leading_lines(statement)
            own = [line for line in lines if not is_marked(line.comment)]
            if statement_is_marked(statement):
                carried.extend(own)
                continue
            if carried or len(own) != len(lines):
                statement = statement.with_changes(leading_lines=[*carried, *own])
                carried = []
            kept.append(statement)
        return kept, [*carried, *(line for line in footer if not is_marked(line.comment))]


class ReportOrderCalls(_SpineTransformer):
    """Reports each order call: `send_signal_to_quantlink(context, 'fn')` on a marked line after its
    statement, or `send_signal_to_quantlink(context, 'fn', <the call>)` where no line can follow it
    (`return`, conditions, one-line suites, lambdas, generator expressions)."""

    def __init__(self, index: OrderCallIndex) -> None:
        super().__init__(index.spine)
        self._index = index

    @staticmethod
    def _context(calls: Sequence[OrderCall]) -> cst.Name:
        return cst.Name("context" if all(call.pass_context for call in calls) else "None")

    @staticmethod
    def _fn(calls: Sequence[OrderCall]) -> cst.BaseExpression:
        names = {call.fn for call in calls}
        if len(names) != 1 or None in names or any(call.in_fstring for call in calls):
            # Several functions on one line, or inside an f-string where a quote could end it early.
            return cst.Name("None")
        return cst.SimpleString(repr(names.pop()))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:  # noqa: N802 - libcst's naming
        call = self._index.wraps.get(id(original_node))
        if call is None:
            return updated_node
        return cst.Call(func=cst.Name(REPORTER), args=_args(self._context([call]), self._fn([call]), updated_node))

    def leave_SimpleStatementLine(  # noqa: N802 - libcst's naming
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.BaseStatement]:
        calls = self._index.inserts.get(id(original_node))
        if not calls:
            return updated_node
        report = cst.Call(func=cst.Name(REPORTER), args=_args(self._context(calls), self._fn(calls)))
        return cst.FlattenSentinel([updated_node, _marked_line(report)])


def runtime_position(body: Sequence[cst.BaseStatement]) -> int:
    """After the docstring, the leading imports (`from __future__` among them) and the last star
    import: the strategy's own names and `from jqdata import *` come first, the runtime's after."""
    position = 0
    for index, statement in enumerate(body):
        if (index == 0 and m.matches(statement, DOCSTRING)) or m.matches(statement, IMPORTS):
            position = index + 1
        else:
            break
    for index in range(len(body) - 1, position - 1, -1):
        if m.matches(body[index], STAR_IMPORT):
            return index + 1
    return position


class InsertRuntime(cst.CSTTransformer):
    """Inserts the (already marked) runtime statements once, near the top of the module."""

    def __init__(self, statements: Sequence[cst.BaseStatement]) -> None:
        super().__init__()
        self._statements = statements

    def on_visit(self, node: cst.CSTNode) -> bool:
        return type(node) is cst.Module

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:  # noqa: N802 - libcst's naming
        body = list(updated_node.body)
        position = runtime_position(body)
        return updated_node.with_changes(body=[*body[:position], *self._statements, *body[position:]])


class RegisterPositionReporter(cst.CSTTransformer):
    """`run_daily(quantlink_report_positions, '15:05')` as the first statement of `initialize`
    (after its docstring); a marked `initialize` is created when the strategy has none."""

    def __init__(self, module_names: Set[str]) -> None:
        super().__init__()
        self._module_names = module_names
        self.warnings: list[LineWarning] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return type(node) is cst.Module

    @staticmethod
    def _registration() -> cst.SimpleStatementLine:
        return _marked_line(
            cst.Call(
                func=cst.Name("run_daily"),
                args=_args(cst.Name(POSITION_REPORTER), cst.SimpleString(repr(POSITION_REPORT_TIME))),
            )
        )

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:  # noqa: N802 - libcst's naming
        body = list(updated_node.body)
        for index in range(len(body) - 1, -1, -1):  # the last definition is the one JoinQuant calls
            if m.matches(body[index], INITIALIZE):
                body[index] = self._register_in(cst.ensure_type(body[index], cst.FunctionDef))
                return updated_node.with_changes(body=body)
        if "initialize" in self._module_names:
            self.warnings.append(
                (
                    None,
                    "`initialize` is not a plain top-level function, so the daily positions report was not "
                    f"registered: call run_daily({POSITION_REPORTER}, '{POSITION_REPORT_TIME}') in it yourself",
                )
            )
            return updated_node
        created = cst.FunctionDef(
            name=cst.Name("initialize"),
            params=cst.Parameters(params=[cst.Param(cst.Name("context"))]),
            body=cst.IndentedBlock(
                body=[self._registration()],
                header=cst.TrailingWhitespace(whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment(MARKER)),
            ),
        )
        return updated_node.with_changes(body=[*body, created])

    def _register_in(self, initialize: cst.FunctionDef) -> cst.FunctionDef:
        block = initialize.body
        if not isinstance(block, cst.IndentedBlock):
            self.warnings.append(
                (
                    initialize.name,
                    "`initialize` is written on one line, so the daily positions report was not registered: "
                    f"call run_daily({POSITION_REPORTER}, '{POSITION_REPORT_TIME}') in it yourself",
                )
            )
            return initialize
        statements = list(block.body)
        if any(m.matches(statement, POSITIONS_REGISTRATION) for statement in statements):
            return initialize  # the owner registered it already: never twice
        position = 1 if statements and m.matches(statements[0], DOCSTRING) else 0
        statements.insert(position, self._registration())
        return initialize.with_changes(body=block.with_changes(body=statements))
