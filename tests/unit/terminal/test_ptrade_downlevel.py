"""The rewrite of the agent's modules for PTrade's Python 3.5: the same behaviour in 3.5 syntax, and a clear
refusal of syntax it does not carry. Python's own parser, asked for the 3.5 grammar, is the judge."""

from __future__ import annotations

import ast
import dataclasses
import pkgutil
from pathlib import Path
from typing import Any

import pytest

import quantlink_terminal
from quantlink_terminal.ptrade import compat
from quantlink_terminal.ptrade.downlevel import DownlevelError, downlevel_source

PACKAGE = Path(quantlink_terminal.__file__).parent


def run(source: str, **names: Any) -> dict[str, Any]:
    namespace: dict[str, Any] = dict(names)
    exec(source, namespace)
    return namespace


def parses_as_35(source: str) -> bool:
    try:
        ast.parse(source, feature_version=(3, 5))
    except SyntaxError:
        return False
    return True


FSTRINGS = [
    'f"{x:,.2f} CNY"',
    'f"{ratio:.2%} of {total:.0%}"',
    'f"{name!r} and {name!s} and {name!a}"',
    'f"{{literal braces}} {name}"',
    'f"{x:>12,.1f}|{ratio!s:<8}|"',
    'f"{x=}"',
    'f"{[n for n in range(3)]}"',
    'f"{name + \'!\'}" f" tail {x}"',
    'f"no fields at all"',
    "f\"{f'{x:.1f}'}\"",
    'f"中文 {name}：{x:,.2f} 元"',
]


@pytest.mark.parametrize("expression", FSTRINGS)
def test_an_f_string_becomes_a_format_call_with_the_same_text(expression: str) -> None:
    values = {"x": 12624.5, "ratio": 0.0201, "total": 0.2, "name": "a{b}c"}
    rewritten = downlevel_source(f"result = {expression}")
    assert "f'" not in rewritten and 'f"' not in rewritten
    assert parses_as_35(rewritten) and not parses_as_35(f"result = {expression}")
    assert run(rewritten, **values)["result"] == run(f"result = {expression}", **values)["result"]


def test_annotations_are_dropped_and_defaults_kept() -> None:
    source = """
from __future__ import annotations
LIMIT: int = 5
PENDING: list[str]
def scale(amount: int, factor: float = 1.5, *, floor: int | None = None) -> float:
    result: float = amount * factor
    return max(result, floor or 0)
"""
    rewritten = downlevel_source(source)
    assert parses_as_35(rewritten) and "__future__" not in rewritten and ":" not in rewritten.split("def")[0]
    namespace = run(rewritten)
    assert namespace["LIMIT"] == 5 and "PENDING" not in namespace
    assert namespace["scale"](10) == 15.0 and namespace["scale"](1, floor=3) == 3


DATACLASS = """
from typing import ClassVar
@dataclass(frozen=True)
class Order:
    \"\"\"An order.\"\"\"
    security: str
    volume: int = 100
    tags: tuple = field(default_factory=tuple)
    kind: ClassVar[str] = "stock"

    def __post_init__(self) -> None:
        if self.volume <= 0:
            raise ValueError("volume must be positive")

    @property
    def lots(self) -> int:
        return self.volume // 100
"""


def test_a_dataclass_behaves_the_same_on_the_3_5_stand_in() -> None:
    rewritten = downlevel_source(DATACLASS)
    assert parses_as_35(rewritten)
    new = run(rewritten, dataclass=compat.dataclass, field=compat.field)["Order"]
    old = run(DATACLASS, dataclass=dataclasses.dataclass, field=dataclasses.field)["Order"]
    assert new.__ql_fields__ == ("security", "volume", "tags")
    for cls, replace in ((new, compat.replace), (old, dataclasses.replace)):
        order = cls("600000.SH", 300)
        assert (order.security, order.volume, order.tags, order.lots, cls.kind) == ("600000.SH", 300, (), 3, "stock")
        assert order == cls("600000.SH", volume=300) and order != cls("600000.SH")
        assert hash(order) == hash(cls("600000.SH", 300))
        assert replace(order, volume=500).volume == 500
        with pytest.raises(ValueError, match="positive"):
            replace(order, volume=0)
        with pytest.raises(AttributeError):
            order.volume = 1  # type: ignore[misc]
        with pytest.raises(TypeError):
            cls()
    assert repr(new("600000.SH")) == "Order(security='600000.SH', volume=100, tags=())"


def test_asdict_and_mutable_dataclasses_on_the_stand_in() -> None:
    source = """
@dataclass
class Leg:
    price: float
    notes: list = field(default_factory=list)

@dataclass(frozen=True)
class Trade:
    leg: Leg
    count: int = 1
"""
    names = run(downlevel_source(source), dataclass=compat.dataclass, field=compat.field)
    first, second = names["Leg"](1.0), names["Leg"](2.0)
    first.notes.append("x")
    assert second.notes == []  # one list per instance, as with default_factory
    first.price = 1.5  # not frozen: assignable
    assert compat.asdict(names["Trade"](first)) == {"leg": {"price": 1.5, "notes": ["x"]}, "count": 1}
    with pytest.raises(TypeError):
        hash(first)  # equal by value and mutable: unhashable, as dataclasses makes it


@pytest.mark.parametrize(
    ("source", "complaint"),
    [
        ("if (n := 3):\n    pass", "walrus"),
        ("match x:\n    case 1:\n        pass", "match"),
        ("def f(a, /, b):\n    return a", "positional-only"),
        ("async def f():\n    pass", "async"),
        ("@dataclass\nclass B(A):\n    x: int", "has bases"),
        ("@handlers[0]\ndef f():\n    pass", "dotted name"),
        ('x = f"{a:{width}}"', "nested fields"),
    ],
)
def test_syntax_3_5_lacks_is_refused_by_name(source: str, complaint: str) -> None:
    with pytest.raises(DownlevelError, match=complaint):
        downlevel_source(source)


def test_every_module_the_script_bundles_rewrites_to_3_5() -> None:
    from quantlink_terminal.ptrade.bundle import _order

    for module, _tree in _order(["quantlink_terminal.ptrade.runtime"]):
        source = pkgutil.get_data("quantlink_terminal", _relative(module))
        assert source is not None
        assert parses_as_35(downlevel_source(source.decode("utf-8"))), module


def _relative(module: str) -> str:
    parts = module.split(".")[1:]
    path = "/".join(parts) + ".py" if parts else "__init__.py"
    return path if (PACKAGE / path).exists() else "/".join(parts) + "/__init__.py"
