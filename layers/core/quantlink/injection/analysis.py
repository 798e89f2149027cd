"""Read-only passes that tell the transformers where to work: the order calls to report, and the
lines an earlier injection left behind.

Why not a libcst visitor: a `CSTVisitor` pass costs about as much as parsing the file, because
libcst rebuilds every node it visits; these walks read the nodes' dataclass fields directly
(about ten times faster) and record the ids of the nodes on the way to each finding (the *spine*),
so each transformer visits only those subtrees and hands everything else back untouched.
Name resolution follows Python's scoping rules (module, function, class, comprehension, `global`,
`nonlocal`) without libcst's ScopeProvider, which alone costs several parses of the file.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import libcst as cst

from quantlink.injection.markers import JOINQUANT_MODULES, MARKER, ORDER_FUNCTIONS, REPORTER

# Fields that hold only whitespace, comments or punctuation: nothing to find below them.
_SKIPPED_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "trailing_whitespace",
        "semicolon",
        "comma",
        "colon",
        "equal",
        "operator",
        "dot",
        "relative",
        "asynchronous",
        "star",
        "arrow",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
    }
)


@functools.cache
def _child_fields(node_type: type[cst.CSTNode]) -> tuple[str, ...]:
    return tuple(
        f.name
        for f in dataclasses.fields(node_type)
        if f.name not in _SKIPPED_FIELDS and not f.name.startswith("whitespace")
    )


def is_marked(comment: cst.Comment | None) -> bool:
    return comment is not None and comment.value.endswith(MARKER)


class _FastWalk:
    """Depth-first walk over a libcst tree that keeps the path of node ids from the root."""

    def __init__(self) -> None:
        self._path: list[int] = []
        self._handlers: dict[type[cst.CSTNode], Callable[[Any], None]] = {}

    def _walk(self, node: cst.CSTNode) -> None:
        self._path.append(id(node))
        handler = self._handlers.get(type(node))
        if handler is None:
            self._children(node)
        else:
            handler(node)
        self._path.pop()

    def _children(self, node: cst.CSTNode) -> None:
        for name in _child_fields(type(node)):
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                self._walk(value)
            elif type(value) is tuple or type(value) is list:
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        self._walk(item)

    def _walk_all(self, nodes: Iterable[cst.CSTNode]) -> None:
        for node in nodes:
            self._walk(node)


# ---- Earlier injections ------------------------------------------------------------------------


@dataclass
class InjectedIndex:
    """What an earlier injection left in the tree, and the spine leading to it."""

    spine: set[int] = field(default_factory=set)
    marked_lines: int = 0
    wrapped_calls: int = 0

    @property
    def found(self) -> bool:
        return bool(self.marked_lines or self.wrapped_calls)


def leading_lines(statement: cst.BaseStatement) -> Sequence[cst.EmptyLine]:
    # Every kind of statement has them; BaseStatement just does not declare the field.
    return cast("cst.SimpleStatementLine | cst.BaseCompoundStatement", statement).leading_lines


def _has_marked_line(lines: Iterable[cst.EmptyLine]) -> bool:
    return any(is_marked(line.comment) for line in lines)


def is_wrapped_call(node: cst.Call) -> bool:
    """`send_signal_to_quantlink(context, fn, <order call>)`: the call form of the reporter."""
    return type(node.func) is cst.Name and node.func.value == REPORTER and len(node.args) == 3


class _InjectedFinder(_FastWalk):
    def __init__(self) -> None:
        super().__init__()
        self.index = InjectedIndex()
        self._handlers = {cst.Call: self._call, cst.Module: self._block, cst.IndentedBlock: self._block}

    def _found(self) -> None:
        self.index.spine.update(self._path)

    def _block(self, block: cst.Module | cst.IndentedBlock) -> None:
        # A module's header holds the comment lines above its first statement, ours among them
        # when the runtime went first.
        if _has_marked_line(block.footer) or (type(block) is cst.Module and _has_marked_line(block.header)):
            self.index.marked_lines += 1
            self._found()
        for statement in block.body:
            if statement_is_marked(statement) or _has_marked_line(leading_lines(statement)):
                self.index.marked_lines += 1
                self._path.append(id(statement))
                self._found()
                self._path.pop()
        self._children(block)

    def _call(self, call: cst.Call) -> None:
        if is_wrapped_call(call):
            self.index.wrapped_calls += 1
            self._found()
        self._children(call)


def statement_is_marked(statement: cst.BaseStatement) -> bool:
    """A line the injector inserted (a simple statement, or a compound one by its first line)."""
    if type(statement) is cst.SimpleStatementLine:
        return is_marked(statement.trailing_whitespace.comment)
    body = getattr(statement, "body", None)
    return type(body) is cst.IndentedBlock and is_marked(body.header.comment)


def find_injected(module: cst.Module) -> InjectedIndex:
    finder = _InjectedFinder()
    finder._walk(module)
    return finder.index


# ---- Order calls -------------------------------------------------------------------------------

_AMBIGUOUS = "<ambiguous>"  # a name bound both to JoinQuant's function and to something else


@dataclass(slots=True)
class _Binding:
    kind: str  # "param" | "other" | "alias"
    order: int  # position in the source, to tell what a module-level alias saw when it ran
    target: str | None = None  # alias: the name it copies
    joinquant: bool = False  # alias imported from a JoinQuant module: `target` is the function


class Scope:
    __slots__ = ("bindings", "globals", "kind", "nonlocals", "parent")

    def __init__(self, kind: str, parent: Scope | None) -> None:
        self.kind = kind  # "module" | "function" | "class" | "comprehension"
        self.parent = parent
        self.bindings: dict[str, list[_Binding]] = {}
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()


@dataclass(slots=True)
class _Line:
    node: cst.SimpleStatementLine
    suspends: bool = False  # holds a yield / await: a report after the line would come late


@dataclass(slots=True)
class _Candidate:
    call: cst.Call
    name: str
    scope: Scope
    line: _Line | None  # None: no line can follow the call (return, condition, lambda...)
    in_fstring: bool
    path: tuple[int, ...]


@dataclass(slots=True)
class OrderCall:
    """One call site of a JoinQuant order function that the injection reports."""

    call: cst.Call
    fn: str | None  # the JoinQuant function (None when the name is ambiguous)
    line: cst.SimpleStatementLine | None  # reported after this line; None: reported by wrapping
    pass_context: bool  # `context` is a parameter in scope, so the report can be handed it
    in_fstring: bool


@dataclass
class OrderCallIndex:
    calls: list[OrderCall]
    inserts: dict[int, list[OrderCall]]  # id(SimpleStatementLine) -> calls reported after it
    wraps: dict[int, OrderCall]  # id(Call) -> call reported by wrapping it
    spine: set[int]
    warnings: list[tuple[cst.CSTNode, str]]  # (node to name the line of, message)
    module_names: frozenset[str]  # every name the module binds at module level


# Small statements after which no line can run (or runs only if nothing went wrong).
_LAST_STATEMENTS = (cst.Return, cst.Raise, cst.Assert)


class _OrderCallIndexer(_FastWalk):
    def __init__(self) -> None:
        super().__init__()
        self.module_scope = Scope("module", None)
        self._scope = self.module_scope
        self._line: _Line | None = None
        self._fstring = 0
        self._order = 0
        self._alias_names: set[str] = set()
        self.candidates: list[_Candidate] = []
        self.references: list[tuple[cst.Name, Scope]] = []
        self._handlers = {
            cst.SimpleStatementLine: self._simple_statement_line,
            cst.SimpleStatementSuite: self._simple_statement_suite,
            cst.FunctionDef: self._function_def,
            cst.Lambda: self._lambda,
            cst.ClassDef: self._class_def,
            cst.Param: self._param,
            cst.ListComp: self._comprehension,
            cst.SetComp: self._comprehension,
            cst.DictComp: self._comprehension,
            cst.GeneratorExp: self._comprehension,
            cst.CompFor: self._comp_for,
            cst.Assign: self._assign,
            cst.AnnAssign: self._ann_assign,
            cst.AugAssign: self._aug_assign,
            cst.Del: self._del,
            cst.Global: self._global,
            cst.Nonlocal: self._nonlocal,
            cst.Import: self._import,
            cst.ImportFrom: self._import_from,
            cst.NamedExpr: self._named_expr,
            cst.For: self._for,
            cst.WithItem: self._with_item,
            cst.ExceptHandler: self._except_handler,
            cst.ExceptStarHandler: self._except_handler,
            cst.If: self._compound,
            cst.While: self._compound,
            cst.With: self._compound,
            cst.Try: self._compound,
            cst.TryStar: self._compound,
            cst.Match: self._compound,
            cst.MatchAs: self._match_as,
            cst.MatchStar: self._match_star,
            cst.MatchMapping: self._match_mapping,
            cst.MatchKeywordElement: self._match_keyword,
            cst.Call: self._call,
            cst.Name: self._name,
            cst.Attribute: self._attribute,
            cst.Arg: self._arg,
            cst.FormattedString: self._formatted_string,
            cst.Yield: self._suspension,
            cst.Await: self._suspension,
        }

    # -- bindings

    def _bind(self, name: str, kind: str = "other", target: str | None = None, joinquant: bool = False) -> None:
        scope = self.module_scope if name in self._scope.globals else self._scope
        self._order += 1
        scope.bindings.setdefault(name, []).append(_Binding(kind, self._order, target, joinquant))
        if kind == "alias":
            self._alias_names.add(name)

    def _bind_target(self, target: cst.BaseExpression) -> None:
        kind = type(target)
        if kind is cst.Name:
            self._bind(cst.ensure_type(target, cst.Name).value)
        elif kind is cst.Tuple or kind is cst.List or kind is cst.StarredElement:
            self._path.append(id(target))
            if kind is cst.StarredElement:
                self._bind_target(cst.ensure_type(target, cst.StarredElement).value)
            else:
                for element in target.elements:  # type: ignore[attr-defined]
                    self._path.append(id(element))
                    self._bind_target(element.value)
                    self._path.pop()
            self._path.pop()
        else:  # attribute or subscript: binds nothing, but its parts run
            self._walk(target)

    def _in_scope(self, scope: Scope, node: cst.CSTNode) -> None:
        outer, self._scope = self._scope, scope
        self._walk(node)
        self._scope = outer

    @staticmethod
    def _bind_params(params: cst.Parameters, scope: Scope) -> None:
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        for extra in (params.star_arg, params.star_kwarg):
            if isinstance(extra, cst.Param):
                every.append(extra)
        for param in every:
            scope.bindings.setdefault(param.name.value, []).append(_Binding("param", 0))

    # -- statements

    def _simple_statement_line(self, node: cst.SimpleStatementLine) -> None:
        line = _Line(node)
        for statement in node.body:
            self._small_statement(statement, line)

    def _simple_statement_suite(self, node: cst.SimpleStatementSuite) -> None:
        # `if x: order(...)`: no line of ours can go inside the one-line suite.
        for statement in node.body:
            self._small_statement(statement, None)

    def _small_statement(self, statement: cst.BaseSmallStatement, line: _Line | None) -> None:
        outer = self._line
        self._line = None if isinstance(statement, _LAST_STATEMENTS) else line
        self._walk(statement)
        self._line = outer

    def _compound(self, node: cst.CSTNode) -> None:
        # Headers (conditions, `with` items...) have no line after them inside the statement;
        # the statements of the bodies set their own line.
        outer, self._line = self._line, None
        self._children(node)
        self._line = outer

    def _function_def(self, node: cst.FunctionDef) -> None:
        outer, self._line = self._line, None
        self._walk_all(node.decorators)
        self._walk(node.params)
        if node.returns is not None:
            self._walk(node.returns)
        self._bind(node.name.value)
        scope = Scope("function", self._scope)
        self._bind_params(node.params, scope)
        self._in_scope(scope, node.body)
        self._line = outer

    def _lambda(self, node: cst.Lambda) -> None:
        outer, self._line = self._line, None  # the body runs whenever the lambda is called
        self._walk(node.params)
        scope = Scope("function", self._scope)
        self._bind_params(node.params, scope)
        self._in_scope(scope, node.body)
        self._line = outer

    def _param(self, node: cst.Param) -> None:
        if node.annotation is not None:
            self._walk(node.annotation)
        if node.default is not None:
            self._walk(node.default)

    def _class_def(self, node: cst.ClassDef) -> None:
        outer, self._line = self._line, None
        self._walk_all(node.decorators)
        self._walk_all(node.bases)
        self._walk_all(node.keywords)
        self._bind(node.name.value)
        self._in_scope(Scope("class", self._scope), node.body)
        self._line = outer

    def _comprehension(self, node: cst.CSTNode) -> None:
        outer_line = self._line
        if type(node) is cst.GeneratorExp:
            self._line = None  # runs lazily, possibly long after this line
        outer, self._scope = self._scope, Scope("comprehension", self._scope)
        self._children(node)
        self._scope = outer
        self._line = outer_line

    def _comp_for(self, node: cst.CompFor) -> None:
        self._bind_target(node.target)
        self._walk(node.iter)
        self._walk_all(node.ifs)
        if node.inner_for_in is not None:
            self._walk(node.inner_for_in)

    def _assign(self, node: cst.Assign) -> None:
        value = node.value
        if len(node.targets) == 1 and type(node.targets[0].target) is cst.Name and type(value) is cst.Name:
            copied = cst.ensure_type(value, cst.Name).value
            if copied in ORDER_FUNCTIONS or copied in self._alias_names:
                # `_jq_order = order`: an alias, resolved once every binding is known.
                self._bind(cst.ensure_type(node.targets[0].target, cst.Name).value, "alias", copied)
                return
        for target in node.targets:
            self._path.append(id(target))
            self._bind_target(target.target)
            self._path.pop()
        self._walk(value)

    def _ann_assign(self, node: cst.AnnAssign) -> None:
        self._bind_target(node.target)
        self._walk(node.annotation)
        if node.value is not None:
            self._walk(node.value)

    def _aug_assign(self, node: cst.AugAssign) -> None:
        self._bind_target(node.target)
        self._walk(node.value)

    def _del(self, node: cst.Del) -> None:
        self._bind_target(node.target)

    def _global(self, node: cst.Global) -> None:
        self._scope.globals.update(item.name.value for item in node.names)

    def _nonlocal(self, node: cst.Nonlocal) -> None:
        self._scope.nonlocals.update(item.name.value for item in node.names)

    def _import(self, node: cst.Import) -> None:
        for alias in node.names:
            if alias.asname is not None:
                self._bind_target(cst.ensure_type(alias.asname.name, cst.Name))
            else:
                leftmost: cst.BaseExpression = alias.name
                while type(leftmost) is cst.Attribute:
                    leftmost = cst.ensure_type(leftmost, cst.Attribute).value
                self._bind_target(leftmost)

    def _import_from(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return  # `from jqdata import *` binds JoinQuant's own functions: nothing is shadowed
        root: cst.BaseExpression | None = node.module
        while type(root) is cst.Attribute:
            root = cst.ensure_type(root, cst.Attribute).value
        from_joinquant = not node.relative and type(root) is cst.Name and root.value in JOINQUANT_MODULES
        for alias in node.names:
            imported = cst.ensure_type(alias.name, cst.Name).value
            bound = cst.ensure_type(alias.asname.name, cst.Name).value if alias.asname else imported
            if from_joinquant and imported in ORDER_FUNCTIONS:
                self._bind(bound, "alias", imported, joinquant=True)
            else:
                self._bind(bound)

    def _named_expr(self, node: cst.NamedExpr) -> None:
        scope = self._scope
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent  # a walrus in a comprehension binds in the enclosing scope
        outer, self._scope = self._scope, scope
        self._bind_target(node.target)
        self._scope = outer
        self._walk(node.value)

    def _for(self, node: cst.For) -> None:
        outer, self._line = self._line, None
        self._bind_target(node.target)
        self._walk(node.iter)
        self._walk(node.body)
        if node.orelse is not None:
            self._walk(node.orelse)
        self._line = outer

    def _with_item(self, node: cst.WithItem) -> None:
        self._walk(node.item)
        if node.asname is not None:
            self._path.append(id(node.asname))
            self._bind_target(node.asname.name)
            self._path.pop()

    def _except_handler(self, node: cst.ExceptHandler) -> None:
        if node.type is not None:
            self._walk(node.type)
        if node.name is not None:
            self._bind_target(node.name.name)
        self._walk(node.body)

    def _match_as(self, node: cst.MatchAs) -> None:
        if node.pattern is not None:
            self._walk(node.pattern)
        if node.name is not None:
            self._bind(node.name.value)

    def _match_star(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self._bind(node.name.value)

    def _match_mapping(self, node: cst.MatchMapping) -> None:
        self._walk_all(node.elements)
        if node.rest is not None:
            self._bind(node.rest.value)

    def _match_keyword(self, node: cst.MatchKeywordElement) -> None:
        self._walk(node.pattern)  # `key` is an attribute name, not a use of a variable

    # -- expressions

    def _call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is cst.Name:
            name = cst.ensure_type(func, cst.Name).value
            if name in ORDER_FUNCTIONS or name in self._alias_names:
                self.candidates.append(
                    _Candidate(node, name, self._scope, self._line, self._fstring > 0, tuple(self._path))
                )
        else:
            self._walk(func)  # `broker.order(...)`: only the object's expression is looked at
        self._walk_all(node.args)

    def _name(self, node: cst.Name) -> None:
        if node.value in ORDER_FUNCTIONS or node.value in self._alias_names:
            self.references.append((node, self._scope))

    def _attribute(self, node: cst.Attribute) -> None:
        self._walk(node.value)  # `.order` is an attribute, never JoinQuant's function

    def _arg(self, node: cst.Arg) -> None:
        self._walk(node.value)  # `keyword=` names are not variables

    def _formatted_string(self, node: cst.FormattedString) -> None:
        self._fstring += 1
        self._children(node)
        self._fstring -= 1

    def _suspension(self, node: cst.CSTNode) -> None:
        if self._line is not None:
            self._line.suspends = True
        self._children(node)

    # -- resolution

    def resolve(
        self, name: str, scope: Scope, before: int | None = None, seen: frozenset[int] = frozenset()
    ) -> str | None:
        """The JoinQuant function `name` means in `scope`, None if it is the strategy's own, or _AMBIGUOUS."""
        current: Scope | None = scope
        while current is not None:
            if current is not scope and current.kind == "class":
                current = current.parent  # class bodies are not visible from the functions inside them
                continue
            if name in current.globals and current is not self.module_scope:
                return self.resolve(name, self.module_scope, before, seen)
            if name not in current.nonlocals:
                bindings = current.bindings.get(name, [])
                if before is not None and current is self.module_scope:
                    bindings = [b for b in bindings if b.order < before]
                if bindings:
                    return self._meaning(bindings, current, seen)
            current = current.parent
        return name if name in ORDER_FUNCTIONS else None

    def _meaning(self, bindings: list[_Binding], scope: Scope, seen: frozenset[int]) -> str | None:
        meanings: set[str | None] = set()
        for binding in bindings:
            if binding.kind != "alias":
                meanings.add(None)
            elif binding.joinquant:
                meanings.add(binding.target)
            elif binding.order in seen or binding.target is None:
                meanings.add(None)
            else:
                # A module-level alias copies what the name meant when the assignment ran.
                before = binding.order if scope is self.module_scope else None
                meanings.add(self.resolve(binding.target, scope, before, seen | {binding.order}))
        return meanings.pop() if len(meanings) == 1 else _AMBIGUOUS

    def context_is_parameter(self, scope: Scope) -> bool:
        """Whether `context` here is a function parameter (so naming it can never fail)."""
        current: Scope | None = scope
        while current is not None:
            if current is not scope and current.kind == "class":
                current = current.parent
                continue
            if "context" in current.globals:
                return False
            bindings = current.bindings.get("context")
            if bindings and "context" not in current.nonlocals:
                return current.kind == "function" and any(b.kind == "param" for b in bindings)
            current = current.parent
        return False


def index_order_calls(module: cst.Module) -> OrderCallIndex:
    indexer = _OrderCallIndexer()
    indexer._walk(module)
    calls: list[OrderCall] = []
    inserts: dict[int, list[OrderCall]] = {}
    wraps: dict[int, OrderCall] = {}
    spine: set[int] = set()
    warnings: list[tuple[cst.CSTNode, str]] = []
    for candidate in indexer.candidates:
        meaning = indexer.resolve(candidate.name, candidate.scope)
        if meaning is None:
            continue  # the strategy's own function (a wrapper, a parameter...): its insides are reported
        fn: str | None = meaning
        if meaning == _AMBIGUOUS:
            fn = candidate.name if candidate.name in ORDER_FUNCTIONS else None
            warnings.append(
                (
                    candidate.call.func,
                    f"`{candidate.name}` is JoinQuant's order function on some paths and the strategy's own "
                    "name on others; it is reported anyway (a JoinQuant order is never sent twice)",
                )
            )
        line = candidate.line
        wrapped = line is None or line.suspends
        call = OrderCall(
            call=candidate.call,
            fn=fn,
            line=None if wrapped or line is None else line.node,
            pass_context=indexer.context_is_parameter(candidate.scope),
            in_fstring=candidate.in_fstring,
        )
        calls.append(call)
        spine.update(candidate.path)
        if call.line is None:
            wraps[id(candidate.call)] = call
        else:
            inserts.setdefault(id(call.line), []).append(call)
    for name_node, scope in indexer.references:
        meaning = indexer.resolve(name_node.value, scope)
        if meaning is not None and meaning != _AMBIGUOUS:
            warnings.append(
                (
                    name_node,
                    f"`{name_node.value}` is passed around instead of called here, so the orders it places "
                    "are sent with the next report rather than right away",
                )
            )
    return OrderCallIndex(
        calls=calls,
        inserts=inserts,
        wraps=wraps,
        spine=spine,
        warnings=warnings,
        module_names=frozenset(indexer.module_scope.bindings),
    )
