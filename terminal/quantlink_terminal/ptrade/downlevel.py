"""Rewrite one of the agent's modules as Python 3.5 source, without changing what it does.

Most brokers' PTrade still runs Python 3.5 (a few, e.g. 国金, moved to 3.11), and the agent is written for
3.8+. The gap is syntax, and it is small: f-strings become `str.format` calls, annotations go (they never ran
anyway), and a dataclass's annotated fields become class attributes plus the `__ql_fields__` tuple that
compat.dataclass reads. Anything else newer than 3.5 (walrus, match, positional-only parameters, ...) is
refused by name, so a change to the agent that PTrade could not run fails the tests, not a trader's PTrade.
"""

from __future__ import annotations

import ast

from quantlink_terminal.ptrade.compat import FIELDS_ATTRIBUTE


class DownlevelError(ValueError):
    """The module uses syntax the rewrite does not carry to Python 3.5."""


_REFUSED = {
    "NamedExpr": "the walrus operator (3.8)",
    "Match": "match statements (3.10)",
    "TryStar": "except* (3.11)",
    "AsyncFunctionDef": "async functions",
    "AsyncFor": "async for",
    "AsyncWith": "async with",
    "Await": "await",
    "TypeAlias": "type aliases (3.12)",
}


def _is_dataclass_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Name) and target.id == "dataclass"


def _is_classvar(annotation: ast.expr) -> bool:
    target = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    return isinstance(target, ast.Name) and target.id == "ClassVar"


def _decorator_ok(node: ast.expr) -> bool:
    """Python 3.5 decorators are a dotted name, optionally called."""
    target = node.func if isinstance(node, ast.Call) else node
    while isinstance(target, ast.Attribute):
        target = target.value
    return isinstance(target, ast.Name)


def _literal_spec(spec: ast.expr) -> str:
    # The spec is itself an f-string; once rewritten (inner first) a plain one is a constant.
    if isinstance(spec, ast.Constant):
        return str(spec.value)
    if isinstance(spec, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in spec.values):
        return "".join(str(v.value) for v in spec.values if isinstance(v, ast.Constant))
    raise DownlevelError("f-string format specs with nested fields are not supported")


def format_call(node: ast.JoinedStr) -> ast.expr:
    """f"a{x!r:>5}b" -> "a{!r:>5}b".format(x): the same `format(value, spec)` calls, in the same order."""
    template: list[str] = []
    arguments: list[ast.expr] = []
    for part in node.values:
        if isinstance(part, ast.Constant):
            template.append(str(part.value).replace("{", "{{").replace("}", "}}"))
            continue
        if not isinstance(part, ast.FormattedValue):
            raise DownlevelError(f"unexpected f-string part {ast.dump(part)}")
        replacement = "{"
        if part.conversion != -1:
            replacement += "!" + chr(part.conversion)
        if part.format_spec is not None:
            replacement += ":" + _literal_spec(part.format_spec)
        template.append(replacement + "}")
        arguments.append(part.value)
    if not arguments:
        return ast.Constant("".join(str(v.value) for v in node.values if isinstance(v, ast.Constant)))
    method = ast.Attribute(value=ast.Constant("".join(template)), attr="format", ctx=ast.Load())
    return ast.Call(func=method, args=arguments, keywords=[])


class _Downlevel(ast.NodeTransformer):
    def generic_visit(self, node: ast.AST) -> ast.AST:
        refused = _REFUSED.get(type(node).__name__)
        if refused is not None:
            raise DownlevelError(
                f"{refused} cannot run on PTrade's Python 3.5 (line {getattr(node, 'lineno', '?')})"
            )
        return super().generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        self.generic_visit(node)
        return format_call(node)

    def visit_arguments(self, node: ast.arguments) -> ast.AST:
        if node.posonlyargs:
            raise DownlevelError("positional-only parameters (3.8) cannot run on PTrade's Python 3.5")
        for argument in [*node.args, *node.kwonlyargs, node.vararg, node.kwarg]:
            if argument is not None:
                argument.annotation = None
        return self.generic_visit(node)

    def _function(self, node: ast.FunctionDef) -> ast.AST:
        node.returns = None
        for decorator in node.decorator_list:
            if not _decorator_ok(decorator):
                raise DownlevelError(f"decorator on line {node.lineno} is not a dotted name (3.9 syntax)")
        return self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self._function(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | None:
        if node.value is None:
            return None  # a bare declaration: nothing ran
        value = self.visit(node.value)
        return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        for decorator in node.decorator_list:
            if not _decorator_ok(decorator):
                raise DownlevelError(f"decorator on line {node.lineno} is not a dotted name (3.9 syntax)")
        if any(_is_dataclass_decorator(d) for d in node.decorator_list):
            if node.bases:
                raise DownlevelError(
                    f"dataclass {node.name} has bases; the 3.5 dataclass does not inherit fields"
                )
            names = [
                stmt.target.id
                for stmt in node.body
                if isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and not _is_classvar(stmt.annotation)
            ]
            fields = ast.Assign(
                targets=[ast.Name(FIELDS_ATTRIBUTE, ast.Store())],
                value=ast.Tuple([ast.Constant(name) for name in names], ast.Load()),
            )
            docstring = 1 if ast.get_docstring(node, clean=False) is not None else 0
            node.body.insert(docstring, ast.copy_location(fields, node))
        self.generic_visit(node)
        if not node.body:
            node.body = [ast.Pass()]
        return node


def _drop_future_and_type_checking(tree: ast.Module) -> None:
    body = []
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            continue
        if isinstance(stmt, ast.If) and isinstance(stmt.test, ast.Name) and stmt.test.id == "TYPE_CHECKING":
            body.extend(stmt.orelse)
            continue
        body.append(stmt)
    tree.body = body


def downlevel(tree: ast.Module) -> ast.Module:
    """The module, rewritten in place for Python 3.5 (and returned)."""
    _drop_future_and_type_checking(tree)
    rewritten = _Downlevel().visit(tree)
    assert isinstance(rewritten, ast.Module)
    for node in ast.walk(rewritten):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if name == "body" and isinstance(block, list) and not block and not isinstance(node, ast.Module):
                block.append(ast.Pass())  # every declaration in it was an annotation
    return ast.fix_missing_locations(rewritten)


def downlevel_source(source: str) -> str:
    """Convenience for tests and the bundle: source in, Python 3.5 source out."""
    return ast.unparse(downlevel(ast.parse(source)))
