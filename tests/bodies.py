"""Hypothesis strategies for what a client can send: arbitrary JSON values (non-finite and
out-of-range numbers included), objects with duplicate or extra keys, and bytes that are not JSON at
all, rendered to the exact bytes that go on the wire. Reusable by any tier (the integration property
tests today; the API-level schemathesis run later can draw its bodies from `mutated_bodies`).

JSON is built as a small tree first (`Obj` keeps key order and duplicates, `Raw` is a number token as
written, e.g. `1e999`), then rendered, because `json.dumps` can neither repeat a key nor write
`10` followed by 400 zeros as a float."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st


@dataclass(frozen=True)
class Obj:
    """A JSON object as written: its pairs in order, duplicates kept."""

    pairs: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Raw:
    """A number token written as is (JSON allows any number of digits and any exponent)."""

    text: str


# The numbers the fuzzing pass found answering 500, and their neighbours at every bound QuantLink sets.
EDGE_NUMBERS = [
    Raw("1e-200"), Raw("NaN"), Raw("Infinity"), Raw("1e999"), Raw("1" + "0" * 400), Raw("-Infinity"), Raw("-1e999"),
    Raw("1" + "0" * 5000), Raw("1e-131"), 1e-7, Raw("-0"), Raw("0.0"), Raw("1e126"), 10**9 + 1, 10**6 + 0.01, 2**63,
    10**9, 10**6, 10**13, 2**53, -1, 0, 1, 1.0, 0.5, 100, 100.5,
]  # fmt: skip

KEYS = st.sampled_from(["v", "seq", "order", "security", "side", "amount", "price", "acks", "x"]) | st.text(max_size=8)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(EDGE_NUMBERS),
    st.sampled_from(["600000.XSHG", "٦٠٠٠٠٠.XSHG", "600000.XSHG\n", "buy", "sell", "executed", "17", "10", "true"]),
)


def objects(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Obj]:
    return st.lists(st.tuples(KEYS, values), max_size=5).map(lambda pairs: Obj(tuple(pairs)))


json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars, lambda children: st.lists(children, max_size=4) | objects(children), max_leaves=12
)


def render(value: Any) -> str:
    """The JSON text of a tree (non-finite floats as the NaN / Infinity literals lenient parsers take)."""
    if isinstance(value, Obj):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{render(v)}" for k, v in value.pairs) + "}"
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return render(Obj(tuple(value.items())))
    if isinstance(value, list):
        return "[" + ",".join(render(v) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return json.dumps(value, ensure_ascii=False)


def _paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every field path in a sample body (objects and list items), the body itself first."""
    found: list[tuple[str | int, ...]] = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _to_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return Obj(tuple((k, _to_tree(v)) for k, v in value.items()))
    if isinstance(value, list):
        return [_to_tree(v) for v in value]
    return value


def _replace(tree: Any, path: tuple[str | int, ...], change: Any) -> Any:
    """The tree with the value at `path` replaced (`_DROP` removes the field)."""
    if not path:
        return change
    head, rest = path[0], path[1:]
    if isinstance(tree, Obj):
        pairs = []
        for key, item in tree.pairs:
            if key != head:
                pairs.append((key, item))
            elif not (change is _DROP and not rest):
                pairs.append((key, _replace(item, rest, change)))
        return Obj(tuple(pairs))
    if isinstance(tree, list) and isinstance(head, int) and head < len(tree):
        if change is _DROP and not rest:
            return tree[:head] + tree[head + 1 :]
        return [*tree[:head], _replace(tree[head], rest, change), *tree[head + 1 :]]
    return tree


def _with_pairs(tree: Any, extra: tuple[tuple[str, Any], ...]) -> Any:
    return Obj(tree.pairs + extra) if isinstance(tree, Obj) else tree


_DROP = object()


def _value_at(sample: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        sample = sample[part]
    return sample


@st.composite
def mutated_bodies(draw: st.DrawFn, sample: dict[str, Any]) -> bytes:
    """A valid sample body with one field (now and then a few) replaced by an arbitrary JSON value or
    dropped, keys repeated or added at the top now and then, and, once in a while, bytes that are not
    JSON at all. A number in the sample is mostly replaced by one of EDGE_NUMBERS: the rest of the body
    stays valid, so the field's own rule is what answers."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=64) | st.text(max_size=64).map(lambda t: t.encode("utf-8")))
    tree = _to_tree(sample)
    paths = _paths(sample)[1:]
    leaves = [p for p in paths if not any(q[: len(p)] == p and q != p for q in paths)]
    changes = [leaves[draw(st.integers(0, len(leaves) - 1))]]
    if draw(st.integers(0, 3)) == 0:
        changes += draw(st.lists(st.sampled_from(paths), max_size=2))
    for path in changes:
        original = _value_at(sample, path)
        numeric = isinstance(original, int | float) and not isinstance(original, bool)
        kind = draw(st.integers(0, 9))  # 0: drop the field; 1-6: an edge number (for a number); else any JSON
        if kind == 0:
            tree = _replace(tree, path, _DROP)
        else:
            tree = _replace(tree, path, draw(st.sampled_from(EDGE_NUMBERS) if numeric and kind <= 6 else json_values))
    if draw(st.integers(0, 4)) == 0:
        tree = _with_pairs(tree, ((draw(st.sampled_from(list(sample))), draw(json_values)),))
    if draw(st.integers(0, 3)) == 0:
        tree = _with_pairs(tree, tuple(draw(st.lists(st.tuples(KEYS, json_values), min_size=1, max_size=2))))
    return render(tree).encode("utf-8")
