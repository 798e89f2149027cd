"""Bundle the agent's own modules into one Python 3.5 source file for PTrade.

PTrade takes one file and nothing else, and some brokers block `sys` and `io` (and `importlib`) in it, so
the modules cannot be shipped as a package: their code is put in one namespace. The bundle follows the
internal imports of the root modules, rewrites each module for 3.5 (downlevel.py), hoists the standard
library imports to the top (each guarded, so a module a broker blocks is reported by name instead of failing
the paste), drops the internal imports (the names are in the same namespace already) and renames a module's
global where two modules would clash, or where it would shadow a name PTrade gives every strategy (`log`,
`order`, `g`, ...). A name the code uses and nothing defines stops the bundle, as do the standard-library
calls that Python 3.5 lacks.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import symtable
from dataclasses import dataclass, field

from quantlink_terminal.ptrade.downlevel import DownlevelError, downlevel

PACKAGE = "quantlink_terminal"
COMPAT = "quantlink_terminal.ptrade.compat"
# `from dataclasses import X` in the agent means compat's X in the bundle.
REDIRECTS = {("dataclasses", name): (COMPAT, name) for name in ("dataclass", "field", "replace", "asdict")}
# What `typing` offers on Python 3.5 that the bundled code may still use at runtime (annotations are gone).
TYPING_35 = frozenset({"Any", "Callable", "Dict", "Iterable", "Iterator", "List", "Mapping", "Optional",
                       "Sequence", "Tuple", "TypeVar", "Union"})  # fmt: skip
# The names PTrade puts in every strategy's namespace (its API), which the bundle must not shadow, and the
# names of PTrade's entry points, which the script itself defines.
PTRADE_NAMES = frozenset({
    "g", "log", "order", "order_target", "order_value", "order_target_value", "order_market", "order_tick",
    "cancel_order", "cancel_order_ex", "get_order", "get_orders", "get_open_orders", "get_all_orders",
    "get_trades", "get_position", "get_positions", "get_snapshot", "get_history", "get_price", "run_interval",
    "run_daily", "set_universe", "set_parameters", "set_benchmark", "get_research_path", "is_trade",
    "get_user_name", "get_trading_day", "get_trade_days", "get_all_trades_days", "permission_test",
    "create_dir", "get_stock_info", "get_stock_name", "send_email", "send_qywx", "check_limit",
    "initialize", "handle_data", "before_trading_start", "after_trading_end", "tick_data",
    "on_order_response", "on_trade_response",
})  # fmt: skip
# Builtins newer than Python 3.5.
_BUILTINS_NEWER = frozenset({"breakpoint", "aiter", "anext", "ModuleNotFoundError", "EncodingWarning",
                             "ExceptionGroup", "BaseExceptionGroup", "PythonFinalizationError"})  # fmt: skip
BUILTINS_35 = frozenset(dir(builtins)) - _BUILTINS_NEWER
# Standard-library calls and modules the agent might reach for that Python 3.5 lacks.
_NEWER_ATTRIBUTES = {
    "fromisoformat": "3.7", "removeprefix": "3.9", "removesuffix": "3.9", "isascii": "3.7",
    "monotonic_ns": "3.7", "time_ns": "3.7", "cached_property": "3.8", "isqrt": "3.8", "nullcontext": "3.7",
}  # fmt: skip
_NEWER_KEYWORDS = {"timespec": "3.6"}
_NEWER_MODULES = frozenset({"secrets", "contextvars", "dataclasses", "zoneinfo", "graphlib", "tomllib"})

PRELUDE = '''\
_QL_MISSING_MODULES = []


class _QlMissingModule(object):
    """A module this PTrade does not let a strategy import: any use of it says which, and why."""

    def __init__(self, name, error):
        self._ql_name = name
        self._ql_error = str(error)
        _QL_MISSING_MODULES.append((name, str(error)))

    def _ql_fail(self):
        raise ImportError('PTrade does not allow the Python module %s (%s)' % (self._ql_name, self._ql_error))

    def __getattr__(self, attribute):
        if attribute.startswith('_ql_'):
            raise AttributeError(attribute)
        self._ql_fail()

    def __call__(self, *args, **kwargs):
        self._ql_fail()
'''


class BundleError(ValueError):
    """The modules cannot be bundled for PTrade; the message says which module and why."""


Key = tuple[str, ...]  # what a global is: ("import", module), ("from", module, name) or ("def", module, name)


@dataclass
class _Hoisted:
    final: str
    statement: ast.stmt


@dataclass
class _State:
    finals: dict[Key, str] = field(default_factory=dict)  # every global's name in the bundle
    taken: dict[str, Key] = field(default_factory=dict)
    exports: dict[str, dict[str, Key]] = field(default_factory=dict)  # module -> its name -> key
    hoisted: list[_Hoisted] = field(default_factory=list)
    bodies: list[tuple[str, list[ast.stmt]]] = field(default_factory=list)
    reserved: frozenset[str] = frozenset()


def module_source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise BundleError(f"cannot find the source of {module}")
    with open(spec.origin, encoding="utf-8") as handle:
        return handle.read()


def _internal(module: str | None) -> bool:
    return module is not None and (module == PACKAGE or module.startswith(PACKAGE + "."))


def _dependencies(module: str, tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(_internal(alias.name) for alias in node.names):
            raise BundleError(f"{module}: `import {PACKAGE}...` is not bundled; use `from ... import ...`")
        if isinstance(node, ast.ImportFrom):
            if node.level:
                raise BundleError(f"{module}: relative imports are not bundled")
            if _internal(node.module) and node not in tree.body:
                raise BundleError(f"{module}: imports {node.module} inside a function; import it at the top")
            if _internal(node.module):
                found.append(str(node.module))
            elif node.module == "dataclasses":
                found.append(COMPAT)
    return found


def _order(roots: list[str]) -> list[tuple[str, ast.Module]]:
    """The modules the roots need, each after what it imports."""
    ordered: list[tuple[str, ast.Module]] = []
    done: set[str] = set()
    active: list[str] = []

    def visit(module: str) -> None:
        if module in done:
            return
        if module in active:
            raise BundleError(f"import cycle: {' -> '.join([*active, module])}")
        active.append(module)
        tree = ast.parse(module_source(module))
        for dependency in [PACKAGE, *_dependencies(module, tree)]:
            if dependency != module:
                visit(dependency)
        active.pop()
        done.add(module)
        ordered.append((module, tree))

    visit(COMPAT)
    for root in roots:
        visit(root)
    return ordered


def _tag(module: str) -> str:
    return module[len(PACKAGE) + 1 :].replace(".", "_") if module != PACKAGE else "package"


def _claim(state: _State, module: str, local: str, key: Key) -> str:
    """The bundle's name for the global `key`, which `module` calls `local`."""
    final = state.finals.get(key)
    if final is not None:
        return final
    final = local
    clashes = final in state.taken or final in PTRADE_NAMES or final in state.reserved
    if clashes:
        final = f"_{_tag(module)}_{local.lstrip('_')}"
        suffix = 1
        while final in state.taken:
            suffix += 1
            final = f"_{_tag(module)}_{local.lstrip('_')}{suffix}"
    state.finals[key] = final
    state.taken[final] = key
    return final


def _module_bindings(statement: ast.stmt) -> list[str]:
    """Names a top-level statement binds at module scope (not those inside its functions or classes)."""
    if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
        return [statement.name]
    names: list[str] = []
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.extend((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.append(node.name)
        stack.extend(ast.iter_child_nodes(node))
    return names


def _nested_bindings(body: list[ast.stmt]) -> set[str]:
    """Names bound in any function or class scope of the module (parameters included)."""
    names: set[str] = set()

    def scope(nodes: list[ast.AST]) -> None:
        stack = list(nodes)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                names.add(node.name)
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                names.difference_update(node.names)
            stack.extend(ast.iter_child_nodes(node))

    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, (ast.FunctionDef, ast.Lambda, ast.ClassDef)):
                scope(list(ast.iter_child_nodes(node)))
            elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                scope(list(node.generators))
    return names


class _Rename(ast.NodeTransformer):
    def __init__(self, renames: dict[str, str], module: str) -> None:
        self.renames = renames
        self.module = module

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == "__name__" and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Constant(self.module), node)  # loggers keep their dotted names
        if node.id == "__file__":
            raise BundleError(f"{self.module} uses __file__, which a pasted PTrade script does not have")
        node.id = self.renames.get(node.id, node.id)
        return node

    def visit_Global(self, node: ast.Global) -> ast.AST:
        node.names = [self.renames.get(name, name) for name in node.names]
        return node


def _check_newer_apis(module: str, tree: ast.Module) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in _NEWER_ATTRIBUTES:
            since = _NEWER_ATTRIBUTES[node.attr]
            raise BundleError(
                f"{module} line {node.lineno}: .{node.attr} needs Python {since}; PTrade runs 3.5"
            )
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "combine"
            and any(k.arg == "tzinfo" for k in node.keywords)
        ):
            raise BundleError(f"{module} line {node.lineno}: datetime.combine(tzinfo=) needs Python 3.6")
        if isinstance(node, ast.keyword) and node.arg in _NEWER_KEYWORDS:
            since = _NEWER_KEYWORDS[node.arg]
            raise BundleError(f"{module}: the keyword {node.arg}= needs Python {since}; PTrade runs 3.5")
        if isinstance(node, ast.ClassDef):
            node.bases = [b for b in node.bases if not (isinstance(b, ast.Name) and b.id == "Protocol")]


def _stdlib_import(
    state: _State, module: str, statement: ast.Import | ast.ImportFrom, renames: dict[str, str]
) -> None:
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            top = alias.name.split(".")[0]
            if top in _NEWER_MODULES:
                raise BundleError(f"{module} imports {alias.name}, which Python 3.5 lacks")
            local = alias.asname or top
            if alias.asname and "." in alias.name:
                raise BundleError(f"{module}: `import {alias.name} as {alias.asname}` is not bundled")
            final = _claim(state, module, local, ("import", alias.name if alias.asname else top))
            if final != top and not alias.asname:
                raise BundleError(f"{module}: the module name {top} clashes with another global")
            renames[local] = final
            plain = ast.Import(names=[ast.alias(alias.name, None if final == top else final)])
            if all(ast.dump(h.statement) != ast.dump(plain) for h in state.hoisted):
                state.hoisted.append(_Hoisted(final, plain))
        return
    source = str(statement.module)
    if source.split(".")[0] in _NEWER_MODULES and source != "dataclasses":
        raise BundleError(f"{module} imports {source}, which Python 3.5 lacks")
    for alias in statement.names:
        local = alias.asname or alias.name
        if source == "typing" and alias.name not in TYPING_35:
            continue  # only ever used in annotations, which are gone (a runtime use fails the name check)
        if (source, alias.name) in REDIRECTS:
            renames[local] = state.finals[("def", *REDIRECTS[(source, alias.name)])]
            continue
        before = len(state.finals)
        final = _claim(state, module, local, ("from", source, alias.name))
        renames[local] = final
        if len(state.finals) > before:
            text = ast.ImportFrom(source, [ast.alias(alias.name, None if final == alias.name else final)], 0)
            state.hoisted.append(_Hoisted(final, text))


def _add_module(state: _State, module: str, tree: ast.Module) -> None:
    try:
        downlevel(tree)
    except DownlevelError as exc:
        raise BundleError(f"{module}: {exc}") from exc
    _check_newer_apis(module, tree)
    body = tree.body[1:] if ast.get_docstring(tree, clean=False) is not None else list(tree.body)
    renames: dict[str, str] = {}
    exports: dict[str, Key] = {}
    kept: list[ast.stmt] = []
    for statement in body:
        if isinstance(statement, ast.ImportFrom) and _internal(statement.module):
            source = str(statement.module)
            for alias in statement.names:
                imported = state.exports.get(source, {}).get(alias.name)
                if imported is None:
                    raise BundleError(
                        f"{module} imports {alias.name} from {source}, which does not define it"
                    )
                local = alias.asname or alias.name
                renames[local] = state.finals[imported]
                exports[local] = imported
            continue
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            before = dict(renames)
            _stdlib_import(state, module, statement, renames)
            for local in set(renames) - set(before):
                exports[local] = state.taken[renames[local]]
            continue
        for local in _module_bindings(statement):
            key: Key = ("def", module, local)
            if local in renames and state.taken.get(renames[local]) != key:
                raise BundleError(f"{module} binds {local} twice (once imported)")
            renames[local] = _claim(state, module, local, key)
            exports[local] = key
        kept.append(statement)
    changed = {local for local, final in renames.items() if final != local}
    shadowed = changed & _nested_bindings(kept)
    if shadowed:
        raise BundleError(
            f"{module}: {', '.join(sorted(shadowed))} must be renamed in the bundle but is also a local name "
            "there; rename the local"
        )
    renamer = _Rename({local: renames[local] for local in changed}, module)
    state.bodies.append((module, [renamer.visit(statement) for statement in kept]))
    state.exports[module] = exports


def _guarded(hoisted: _Hoisted) -> str:
    statement = ast.unparse(hoisted.statement)
    what = ast.unparse(hoisted.statement).split(" import ")[0].replace("from ", "").replace("import ", "")
    if isinstance(hoisted.statement, ast.ImportFrom):
        what = f"{hoisted.statement.module}.{hoisted.statement.names[0].name}"
    return (
        f"try:\n    {statement}\nexcept ImportError as _ql_error:\n"
        f"    {hoisted.final} = _QlMissingModule({what!r}, _ql_error)\n"
    )


def check_names(source: str, defined_elsewhere: frozenset[str] = PTRADE_NAMES) -> None:
    """Every global the code reads is defined in it, a Python 3.5 builtin, or PTrade's."""
    table = symtable.symtable(source, "quantlink_ptrade.py", "exec")
    module_names = {
        sym.get_name()
        for sym in table.get_symbols()
        if sym.is_assigned() or sym.is_imported() or sym.is_namespace()
    }
    known = module_names | BUILTINS_35 | defined_elsewhere
    missing: set[str] = set()
    for sym in table.get_symbols():
        if sym.is_referenced() and sym.get_name() not in known:
            missing.add(sym.get_name())
    stack = list(table.get_children())
    while stack:
        scope = stack.pop()
        stack.extend(scope.get_children())
        for sym in scope.get_symbols():
            if sym.is_global() and sym.is_referenced() and sym.get_name() not in known:
                missing.add(sym.get_name())
    if missing:
        raise BundleError(f"the bundle uses names nothing defines: {', '.join(sorted(missing))}")


def bundle(roots: list[str], reserved: frozenset[str] = frozenset()) -> str:
    """Python 3.5 source holding `roots` and everything they import from the package; `reserved` names are
    left to the caller (the script's own globals)."""
    state = _State(reserved=reserved)
    for module, tree in _order(roots):
        _add_module(state, module, tree)
    parts = [PRELUDE, *(_guarded(h) for h in state.hoisted)]
    for module, statements in state.bodies:
        if statements:
            parts.append(f"\n# ---- {module} " + "-" * max(4, 90 - len(module)) + "\n")
            parts.append("\n\n".join(ast.unparse(statement) for statement in statements) + "\n")
    return "\n".join(parts)
