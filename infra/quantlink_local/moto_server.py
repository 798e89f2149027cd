"""The moto server of the local stack, made safe and steady under load.

1. moto's DynamoDB backend has no locking: two conditional writes to one key, arriving at once over
   HTTP, can both succeed, and a Query can iterate a dict another request is changing. Dedup and
   device claims depend on conditional writes, so every backend call takes one process-wide lock.
2. moto's TransactWriteItems deep-copies the whole table (once per item) to be able to roll back, so
   every webhook got slower as the table grew. Under the lock nothing else can interleave, so a
   snapshot of just the items the transaction names is an exact rollback.
3. moto's Query on the base table scans every item of the table (66 ms at 5,000 items), not the one
   partition a Query can touch, and sizes every item it passes, matching or not; it is given only the
   partition's items that match the sort-key condition (moto applies the condition again).
4. moto's SQS asks the clock through datetime conversions several times per queued message on every
   call (90 ms per SendMessage at a depth of 1,000); the same epoch comes from time.time(). And it
   rebuilds each queue's attribute names from CamelCase four times per SendMessage (~2 ms, most of a
   send's cost, which a fan-out to 100 terminals pays 100 times); that pure function is memoized.
   And moto builds all of a queue's attributes, counting every message three ways (visible, delayed,
   in flight), whenever it wants one: three times per SendMessage for ContentBasedDeduplication, and
   three times per message a ReceiveMessage returns, for MessageRetentionPeriod. A send to a
   terminal with a backlog of 1,000 cost 12 ms, a pull of 10 messages from it 100 ms, under the lock;
   while a send or a GetQueueAttributes that names no count runs, the counts are not made (0).

5. moto finds the backend for every request by trying hundreds of URL regexes in turn, Flask then
   matches the path against the service's hundreds of rules, and moto lists a response class's methods
   with inspect.getmembers (~0.3 ms); the answers depend only on the host, the (domain, path, method)
   or the class, which do not change while the server runs, so all three are memoized.

Each is a change of cost only, never of answers: the tests in tests/unit/test_moto_server.py hold
the answers to moto's own.

6. For the snapshots of persistence.py, the backends of SQS, Cognito, S3 and SES take the same lock
   (so a snapshot is one instant across services); an SQS long-poll lets go of it while it waits.
   Each SQS backend call journals what it changed in that same hold of the lock (changes.py); the
   other services' writes are journaled by LocalApp, after moto has done them and before the answer.

7. moto hashes and compares a key value (DynamoType) through its `cast_value` property, which asks
   five type predicates first: a restart's load hashes ~700,000 of them (a fifth of its time). For a
   string the cast value is the string itself, so it is hashed and compared directly.
   Like 1-5, a change of cost only.

8. moto parses an UpdateItem's update expression twice per call (~0.3 ms each), deep-copies the AST for
   its validator (~0.3 ms), and its ten validation passes rebuilt each pass's class -> method table and
   ran ABC isinstance checks at every node (~1.5 ms in all): an UpdateItem was the costliest call of a
   delivery (2-4 per delivery: pull, push, ack, device claim, counts). The AST of an expression is
   memoized (the validators rewrite their own copy, unpickled from a pickled twin of the memoized one), and
   which processor takes a node is looked up by the traverser's and the node's class.

9. moto writes every DynamoDB answer through its model-driven serializer, which for each AttributeValue
   tries each of its ten members under several alias names (12% of the server's time under load); an
   AttributeValue that is a dict of members written as they are (S, N, SS, NS, BOOL, NULL, and maps and
   lists of such) is written as it is. Anything else (B, BS, another shape) goes moto's way.
   Like 1-5 and 7, changes of cost only, held to moto's answers by tests/unit/test_moto_server.py."""

from __future__ import annotations

import argparse
import bisect
import contextlib
import copy
import faulthandler
import functools
import importlib
import inspect
import io
import json
import os
import pickle
import signal
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import Any, cast

from quantlink_local import changes, outbox, persistence

_LOCK = threading.RLock()
_SNAPSHOTTER: persistence.Snapshotter | None = None  # where the changes are journaled (None: memory only)
_INSIDE = threading.local()  # whether this thread is in a journaled SQS backend call (it calls others)


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    return locked


class _TableSharingCopy:
    """Stands in for the `copy` module inside moto's DynamoDB models during a transaction: a Table
    is "copied" as itself (its rollback is done item by item instead), anything else really is."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(obj: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        return obj if isinstance(obj, Table) else copy.deepcopy(obj, memo)


def _item_keys(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    keys = []
    for entry in transact_items:
        operation: dict[str, Any] = next(iter(entry.values()), {})
        table = backend.tables.get(operation.get("TableName"))
        key = operation.get("Key") or operation.get("Item") or {}
        if table is None or table.hash_key_attr not in key:
            continue
        range_value = key.get(table.range_key_attr) if table.range_key_attr else None
        if table.has_range_key and range_value is None:
            continue
        keys.append((table, DynamoType(key[table.hash_key_attr]), DynamoType(range_value) if range_value else None))
    return keys


def _with_item_rollback(transact: Callable[..., Any]) -> Callable[..., Any]:
    from moto.dynamodb import models

    @functools.wraps(transact)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        saved = [(t, h, r, copy.deepcopy(t.get_item(h, r))) for t, h, r in _item_keys(self, transact_items)]
        models.copy = _TableSharingCopy()  # type: ignore[assignment,attr-defined]
        try:
            return transact(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                if item is None:
                    table.items.get(hash_value, {}).pop(range_value, None) if range_value else table.items.pop(
                        hash_value, None
                    )
                elif range_value:
                    table.items[hash_value][range_value] = item
                else:
                    table.items[hash_value] = item
            raise
        finally:
            models.copy = copy  # type: ignore[attr-defined]

    return transact_write_items


def _invalidating(name: str) -> Any:
    """A rarer dict mutator of _SortedPartition: the order is rebuilt when next asked for."""

    def mutate(self: Any, *args: Any, **kwargs: Any) -> Any:
        self._order = None
        return getattr(dict, name)(self, *args, **kwargs)

    return mutate


class _SortedPartition(dict):  # type: ignore[type-arg]
    """One partition's items (range key -> item) that also keeps its string range keys in order, so a
    Query's key condition is a bisect and a slice, not a pass over the partition (which holds every
    signal and delivery of a strategy: the webhook's subscriptions Query slowed as they piled up)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._order: list[tuple[str, Any]] | None = None  # (the key's string, the key); built when first asked

    def __reduce__(self) -> tuple[Any, ...]:
        return (_SortedPartition, (dict(self),))

    def __setitem__(self, key: Any, value: Any) -> None:
        if self._order is not None and key not in self:
            if getattr(key, "type", None) == "S":
                bisect.insort(self._order, (key.value, key))
            else:
                self._order = None
        super().__setitem__(key, value)

    def _forget(self, key: Any) -> None:
        if self._order is not None and key in self:
            at = bisect.bisect_left(self._order, key.value, key=_first)
            if at < len(self._order) and self._order[at][1] == key:
                del self._order[at]
            else:
                self._order = None

    def __delitem__(self, key: Any) -> None:
        self._forget(key)
        super().__delitem__(key)

    def pop(self, key: Any, *default: Any) -> Any:
        self._forget(key)
        return super().pop(key, *default)

    popitem = _invalidating("popitem")
    clear = _invalidating("clear")
    update = _invalidating("update")
    setdefault = _invalidating("setdefault")
    __ior__ = _invalidating("__ior__")

    def in_range(self, comparison: str, operands: list[Any]) -> list[Any] | None:
        """The items whose range key can meet the condition, in key order; None: not an ordered case."""
        if comparison not in _ORDERED or any(getattr(o, "type", None) != "S" for o in operands):
            return None
        if self._order is None:
            if any(getattr(k, "type", None) != "S" for k in self):
                return None
            self._order = sorted(((k.value, k) for k in self), key=_first)
        order, values = self._order, [o.value for o in operands]
        if comparison == "BEGINS_WITH":
            start = end = bisect.bisect_left(order, values[0], key=_first)
            while end < len(order) and order[end][0].startswith(values[0]):
                end += 1
        else:
            low, high = _ORDERED[comparison]
            start = 0 if low is None else getattr(bisect, low)(order, values[0], key=_first)
            end = len(order) if high is None else getattr(bisect, high)(order, values[-1], key=_first)
        return [dict.__getitem__(self, key) for _, key in order[start:end]]


def _first(pair: tuple[str, Any]) -> str:
    return pair[0]


# comparison -> (bisect for the slice's start, for its end); None: the partition's start / end
_ORDERED: dict[str, tuple[str | None, str | None]] = {
    "EQ": ("bisect_left", "bisect_right"), "BETWEEN": ("bisect_left", "bisect_right"),
    "LT": (None, "bisect_left"), "LE": (None, "bisect_right"),
    "GT": ("bisect_right", None), "GE": ("bisect_left", None), "BEGINS_WITH": (None, None),
}  # fmt: skip
_ORDERED.update({"=": _ORDERED["EQ"], "<": _ORDERED["LT"], "<=": _ORDERED["LE"], ">": _ORDERED["GT"],
                 ">=": _ORDERED["GE"]})  # fmt: skip


def _partition_only(query: Callable[..., Any]) -> Callable[..., Any]:
    """Table.query without an index reads one partition: hand it that partition's items that can meet
    the key condition (a slice of its ordered keys), not the table."""
    signature = inspect.signature(query)

    @functools.wraps(query)
    def partitioned(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        hash_key = arguments.get("hash_key")
        if arguments.get("index_name"):
            return _on_index(self, query, arguments, args, kwargs)
        if hash_key is None or not self.range_key_attr:
            return query(self, *args, **kwargs)
        if isinstance(self.items, defaultdict):
            self.items.default_factory = _SortedPartition
        found = self.items.get(hash_key)
        if type(found) is dict:  # restored from a state file, or made before the patch
            found = self.items[hash_key] = _SortedPartition(found)
        comparison, operands = arguments.get("range_comparison"), arguments.get("range_objs")
        candidates = None
        if found is not None and comparison:
            candidates = found.in_range(comparison.upper(), operands or [])
        partition = list(found.values()) if candidates is None and found is not None else candidates or []
        if comparison:  # moto applies the condition again; this keeps the list to what meets it
            partition = [item for item in partition if item.range_key.compare(comparison, operands)]
        self.all_items = lambda: partition  # an instance attribute shadows the method, for this call only
        try:
            return query(self, *args, **kwargs)
        finally:
            del self.all_items

    return partitioned


def _on_index(table: Any, query: Callable[..., Any], arguments: dict[str, Any], args: Any, kwargs: Any) -> Any:
    """An index Query must look at every item (moto keeps no index), but only the items with the
    index's hash key value (and meeting the range condition) need moto's slow matching and sorting:
    a sweep's Query of one work-list shard sorted the whole table, under the backend lock."""
    index = next((i for i in table.all_indexes() if i.name == arguments["index_name"]), None)
    conditions = arguments.get("hash_key_conditions") or []
    partition_keys = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"] if index is not None else []
    ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"] if index is not None else []
    if len(partition_keys) != 1 or len(conditions) != 1 or conditions[0][0] != partition_keys[0] or len(ranges) > 1:
        return query(table, *args, **kwargs)
    name, wanted = partition_keys[0], conditions[0][1]
    comparison, operands = arguments.get("range_comparison"), arguments.get("range_objs")
    matching = []
    for stored in table.items.values():
        for item in stored.values() if table.range_key_attr else (stored,):
            value = item.attrs.get(name)
            if value is None or value.type != wanted.type or value.value != wanted.value:
                continue
            if comparison and ranges:
                bound = item.attrs.get(ranges[0])
                if bound is None or not bound.compare(comparison, operands):
                    continue
            matching.append(item)
    table.all_items = lambda: matching  # moto still applies every condition to these
    try:
        return query(table, *args, **kwargs)
    finally:
        del table.all_items


def _serialize_backend(backend: type, originals: dict[tuple[type, str], Any]) -> None:
    for name, member in list(vars(backend).items()):
        if name.startswith("_") or not inspect.isfunction(member):
            continue
        originals[(backend, name)] = member
        patched = _with_item_rollback(member) if name == "transact_write_items" else member
        setattr(backend, name, _serialized(patched))


def patch_dynamodb() -> Callable[[], None]:
    """Apply fixes 1-3 and 7 to moto's DynamoDB; returns a function that undoes them (tests)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    originals: dict[tuple[type, str], Any] = {
        (Table, "query"): Table.query,
        (DynamoType, "__hash__"): DynamoType.__hash__,
        (DynamoType, "__eq__"): DynamoType.__eq__,
    }
    _serialize_backend(DynamoDBBackend, originals)
    Table.query = _partition_only(Table.query)  # type: ignore[method-assign]
    hash_value, equal = DynamoType.__hash__, DynamoType.__eq__

    def string_hash(self: Any) -> int:
        return hash((self.type, self.value)) if self.type == "S" else hash_value(self)

    def string_equal(self: Any, other: Any) -> bool:
        if self.type == "S" and getattr(other, "type", None) == "S":
            return bool(self.value == other.value)
        return bool(equal(self, other))

    DynamoType.__hash__ = string_hash  # type: ignore[method-assign,assignment]
    DynamoType.__eq__ = string_equal  # type: ignore[method-assign,assignment]

    def undo() -> None:
        for (owner, name), member in originals.items():
            setattr(owner, name, member)

    return undo


def _by_type(cache: dict[type, Any], node: Any, compute: Callable[[type], Any]) -> Any:
    kind = type(node)
    if kind not in cache:
        cache[kind] = compute(kind)
    return cache[kind]


def patch_dynamodb_expressions() -> Callable[[], None]:
    """Fix 8; returns a function that undoes it (tests)."""
    # moto's parsing modules are untyped (mypy sees no attributes): Any, to patch them
    ast_nodes: Any = importlib.import_module("moto.dynamodb.parsing.ast_nodes")
    validators: Any = importlib.import_module("moto.dynamodb.parsing.validators")
    parser: Any = importlib.import_module("moto.dynamodb.parsing.expressions").UpdateExpressionParser

    original_make = parser.__dict__["make"]
    original_deepcopy = validators.deepcopy
    original_traverse = ast_nodes.DepthFirstTraverser.traverse_node_recursively
    original_process = ast_nodes.DepthFirstTraverser.process
    # expression -> (its AST, the AST pickled): what UpdateExpressionParser.make answers, and a copy of
    # it that is much cheaper to rebuild than to deep-copy. A miss (a syntax error raises) is not kept.
    parsed: dict[str, tuple[Any, bytes]] = {}

    def make(cls: type, expression: str) -> Any:
        found = parsed.get(expression)
        if found is None:
            ast = original_make.__func__(cls, expression)
            if len(parsed) >= 1024:
                parsed.clear()
            found = parsed[expression] = (ast, pickle.dumps(ast, protocol=pickle.HIGHEST_PROTOCOL))
            ast._ql_expression = expression  # after pickling: the copies do not carry it
        return found[0]

    def deepcopy(obj: Any, memo: dict[int, Any] | None = None) -> Any:
        """The validator's private copy of the AST it rewrites: the shared (memoized) AST is never
        handed out to be changed, a fresh one is unpickled from its pickled twin."""
        found = parsed.get(getattr(obj, "_ql_expression", None) or "")
        if memo is None and found is not None and found[0] is obj:
            return pickle.loads(found[1])  # noqa: S301 - bytes this process pickled itself
        return original_deepcopy(obj, memo)

    # Which of a traverser's processors takes a node, by the traverser's and the node's class: moto rebuilt
    # the class -> method dict (and a tuple of its keys) and ran ABC isinstance checks for every node of
    # every pass, ten passes per update. The dict's keys are fixed per traverser class; its methods are
    # bound to the traverser, so the dict itself is made once per traverser.
    is_node: dict[type, bool] = {}
    takes: dict[type, dict[type, type | None]] = defaultdict(dict)

    def processor(self: Any, node: Any) -> Any:
        methods = self.__dict__.get("_ql_methods")
        if methods is None:
            methods = self.__dict__["_ql_methods"] = self._processing_map()
        key = _by_type(takes[type(self)], node, lambda kind: next((k for k in methods if issubclass(kind, k)), None))
        return None if key is None else methods[key]

    def traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
        if _by_type(is_node, node, lambda kind: issubclass(kind, ast_nodes.Node)):
            parent_node = node.parent
            if node.children is not None:
                for i, child_node in enumerate(node.children):
                    self.pre_processing_of_child(node, i)
                    self.traverse_node_recursively(child_node, i)
            process = processor(self, node)
            if process is not None:
                node = process(node)
                node.parent = parent_node
                if parent_node:
                    parent_node.children[child_id] = node
        return node

    def process(self: Any, node: Any) -> Any:
        found = processor(self, node)
        return found(node) if found is not None else None

    parser.make = classmethod(make)
    validators.deepcopy = deepcopy
    ast_nodes.DepthFirstTraverser.traverse_node_recursively = traverse_node_recursively
    ast_nodes.DepthFirstTraverser.process = process

    def undo() -> None:
        parser.make = original_make
        validators.deepcopy = original_deepcopy
        ast_nodes.DepthFirstTraverser.traverse_node_recursively = original_traverse
        ast_nodes.DepthFirstTraverser.process = original_process

    return undo


# An AttributeValue's members that moto's serializer writes back as they are (strings, string lists,
# booleans, and maps and lists of AttributeValues); B and BS are base64-encoded, so they take moto's way.
_PLAIN_MEMBERS: dict[str, type] = {"S": str, "N": str, "SS": list, "NS": list, "M": dict, "L": list, "NULL": bool,
                                   "BOOL": bool}  # fmt: skip


def _plain_attribute_value(value: Any, order: tuple[str, ...]) -> dict[str, Any] | None:
    """What moto's JSON serializer writes for an AttributeValue that is a dict of plain members (in the
    model's member order, None members left out); None when it is anything else (then moto serializes it)."""
    if type(value) is not dict or not value.keys() <= _PLAIN_MEMBERS.keys():
        return None
    written: dict[str, Any] = {}
    for member in order:
        member_value: Any = value.get(member)
        if member_value is None:
            continue
        if type(member_value) is not _PLAIN_MEMBERS[member]:  # exactly: a str subclass may serialize otherwise
            return None
        member_value = cast(Any, member_value)
        if member in ("SS", "NS"):
            if any(type(element) is not str for element in member_value):
                return None
        elif member == "M":
            inner = {k: _plain_attribute_value(v, order) for k, v in member_value.items()}
            if any(v is None for v in inner.values()):
                return None
            member_value = inner
        elif member == "L":
            elements = [_plain_attribute_value(v, order) for v in member_value]
            if any(v is None for v in elements):
                return None
            member_value = elements
        written[member] = member_value
    return written


def patch_serializer() -> Callable[[], None]:
    """Fix 9; returns a function that undoes it (tests)."""
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure
    plain_shape: dict[int, tuple[str, ...] | None] = {}  # id(shape) -> its member order, if it can be written as is

    def member_order(shape: Any) -> tuple[str, ...] | None:
        if id(shape) not in plain_shape:
            members = shape.members
            as_is = shape.name == "AttributeValue" and set(members) >= _PLAIN_MEMBERS.keys()
            as_is = as_is and all(not m.serialization for name, m in members.items() if name in _PLAIN_MEMBERS)
            plain_shape[id(shape)] = tuple(members) if as_is else None
        return plain_shape[id(shape)]

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        order = member_order(shape) if key and not shape.serialization else None
        transformers = getattr(self._value_picker, "response_transformers", None)
        written = _plain_attribute_value(value, order) if order is not None and not transformers else None
        if written is None:
            original(self, serialized, value, shape, key)
        else:
            serialized[key] = written

    BaseJSONSerializer._serialize_type_structure = serialize_structure  # type: ignore[method-assign]

    def undo() -> None:
        BaseJSONSerializer._serialize_type_structure = original  # type: ignore[method-assign]

    return undo


def patch_sqs() -> Callable[[], None]:
    """Fix 4; returns a function that undoes it (tests)."""
    from moto.sqs import models

    original_clock = models.unix_time_millis  # type: ignore[attr-defined]
    original_names = models.camelcase_to_underscores  # type: ignore[attr-defined]

    def unix_time_millis(dt: Any = None) -> float:
        return time.time() * 1000.0 if dt is None else float(original_clock(dt))

    models.unix_time_millis = unix_time_millis  # type: ignore[attr-defined]
    models.camelcase_to_underscores = functools.cache(original_names)  # type: ignore[attr-defined]

    # While moto builds a queue's attributes only to read some that are not counts, the counts are 0.
    uncounted = threading.local()
    counts = ("approximate_number_of_messages", "approximate_number_of_messages_delayed",
              "approximate_number_of_messages_not_visible")  # fmt: skip
    original_counts = {name: getattr(models.Queue, name) for name in counts}

    def counted(count: property) -> property:
        return property(lambda queue: 0 if getattr(uncounted, "active", False) else count.fget(queue))  # type: ignore[misc]

    def wants_counts(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        if method != "get_queue_attributes":
            return False  # a send reads ContentBasedDeduplication, nothing else
        names = kwargs.get("attribute_names", args[1] if len(args) > 1 else [])
        return any(name == "All" or name.startswith("ApproximateNumberOfMessages") for name in names)

    def uncounting(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def without_counts(backend: Any, *args: Any, **kwargs: Any) -> Any:
            if wants_counts(name, args, kwargs):
                return method(backend, *args, **kwargs)
            outer = getattr(uncounted, "active", False)
            uncounted.active = True
            try:
                return method(backend, *args, **kwargs)
            finally:
                uncounted.active = outer

        return without_counts

    methods = ("send_message", "send_message_batch", "get_queue_attributes")
    original_methods = {name: getattr(models.SQSBackend, name) for name in methods}
    for name, count in original_counts.items():
        setattr(models.Queue, name, counted(count))
    for name, method in original_methods.items():
        setattr(models.SQSBackend, name, uncounting(name, method))

    def undo() -> None:
        models.unix_time_millis = original_clock  # type: ignore[attr-defined]
        models.camelcase_to_underscores = original_names  # type: ignore[attr-defined]
        for name, count in original_counts.items():
            setattr(models.Queue, name, count)
        for name, method in original_methods.items():
            setattr(models.SQSBackend, name, method)

    return undo


def _journaled_sqs(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """An SQS backend method that journals what it changed in the same hold of the lock (a long-poll
    lets go of it while it waits, so the record cannot wait for the HTTP layer)."""
    signature = inspect.signature(method)

    @functools.wraps(method)
    def journaled(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            snapshotter = _SNAPSHOTTER
            if snapshotter is None or getattr(_INSIDE, "inside", False) or name in changes.SQS_READS:
                return method(self, *args, **kwargs)
            arguments = signature.bind(self, *args, **kwargs).arguments
            queue = str(arguments.get("queue_name", arguments.get("name")))
            before = changes.messages_before(self, queue) if name in changes.MESSAGE_OPERATIONS else None
            _INSIDE.inside = True
            try:
                return method(self, *args, **kwargs)
            finally:
                _INSIDE.inside = False
                if name in changes.MESSAGE_OPERATIONS:
                    snapshotter.record(changes.messages_record(self, queue, before))
                elif name in changes.QUEUE_OPERATIONS:
                    snapshotter.record(changes.queue_record(self, queue))
                else:  # a method this does not know: the whole backend, to be sure
                    snapshotter.record([("service", "sqs", {self.account_id: {self.region_name: self}})])

    return journaled


def patch_locking() -> Callable[[], None]:
    """Fix 6; returns a function that undoes it (tests)."""
    from moto.cognitoidp.models import CognitoIdpBackend
    from moto.s3.models import S3Backend
    from moto.ses.models import SESBackend
    from moto.sesv2.models import SESV2Backend
    from moto.sqs.models import Queue, SQSBackend

    originals: dict[tuple[type, str], Any] = {(Queue, "wait_for_messages"): Queue.wait_for_messages}
    for backend in (CognitoIdpBackend, S3Backend, SESBackend, SESV2Backend):
        _serialize_backend(backend, originals)
    for name, member in list(vars(SQSBackend).items()):
        if not name.startswith("_") and inspect.isfunction(member):
            originals[(SQSBackend, name)] = member
            setattr(SQSBackend, name, _journaled_sqs(name, member))
    wait = Queue.wait_for_messages

    def wait_unlocked(self: Any, timeout: int) -> None:
        saved = _LOCK._release_save()  # type: ignore[attr-defined]  # however deep this thread holds it
        try:
            wait(self, timeout)
        finally:
            _LOCK._acquire_restore(saved)  # type: ignore[attr-defined]

    Queue.wait_for_messages = wait_unlocked  # type: ignore[method-assign]

    def undo() -> None:
        for (owner, name), member in originals.items():
            setattr(owner, name, member)

    return undo


# The service a request signed for (SigV4's credential scope) -> the backends its writes are journaled as
_SIGNED_FOR = {"s3": ("s3",), "ses": ("ses", "sesv2"), "email": ("ses", "sesv2"), "cognito-idp": ("cognito-idp",)}
_RARELY_WRITTEN = ("cognito-idp", "s3", "ses", "sesv2")
# DynamoDB table-level writes: the table's definition is journaled (its name in "TableName" or "ResourceArn")
_TABLE_OPERATIONS = frozenset({"CreateTable", "UpdateTable", "DeleteTable", "UpdateTimeToLive", "TagResource",
                               "UntagResource", "UpdateContinuousBackups"})  # fmt: skip


def _signed_for(environ: dict[str, Any]) -> tuple[str, ...]:
    """The backends a request without X-Amz-Target writes to, from its signature's scope."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    credential = authorization.partition("Credential=")[2] or environ.get("QUERY_STRING", "").partition(
        "X-Amz-Credential="
    )[2].replace("%2F", "/")
    parts = credential.split(",")[0].split("&")[0].split("/")
    return _SIGNED_FOR.get(parts[3], _RARELY_WRITTEN) if len(parts) > 3 else _RARELY_WRITTEN


def _records_of(target: str | None, body: bytes, environ: dict[str, Any]) -> list[changes.Record]:
    """After-images of what a write request changed (the caller holds the lock; SQS journals
    itself, in the backend)."""
    if target is None:
        return [r for service in _signed_for(environ) for r in changes.service_record(service)]
    service, _, operation = target.partition(".")
    if service == "AmazonSQS":
        return []
    if service.startswith("AWSCognitoIdentityProviderService"):
        return changes.service_record("cognito-idp")
    if not service.startswith("DynamoDB_"):
        return [r for name in _RARELY_WRITTEN for r in changes.service_record(name)]
    written = persistence.written_items(target, body)
    if written is not None:
        return changes.item_records(written)
    if operation in _TABLE_OPERATIONS:
        with contextlib.suppress(ValueError, AttributeError):
            request = json.loads(body)
            name = request.get("TableName") or str(request.get("ResourceArn", "")).rpartition("/")[2]
            if name:
                return changes.table_record(name)
    return changes.service_record("dynamodb")  # PartiQL and the rest: the whole of DynamoDB, rare


class LocalApp:
    """moto's WSGI app plus what the local stack adds: the SES outbox at OUTBOX_PATH, and the
    journal of every write, appended before the write is answered (persistence.py)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], snapshotter: persistence.Snapshotter | None) -> None:
        self.app = app
        self.snapshotter = snapshotter

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == outbox.MOTO_PATH and environ.get("REQUEST_METHOD") == "GET":
            with _LOCK:
                body = json.dumps(outbox.sent_emails()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if environ.get("PATH_INFO") == persistence.STATS_PATH and self.snapshotter is not None:
            body = json.dumps(self.snapshotter.stats()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if self.snapshotter is None:
            return self.app(environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET")
        if persistence.is_read_only(environ.get("REQUEST_METHOD", ""), target):
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        answer = self.app(environ, start_response)  # moto has done the work: the response is built
        with _LOCK:  # the after-images and their frame, at one instant and in the order of the changes
            self.snapshotter.record(_records_of(target, body, environ))
        return answer


def serve(host: str, port: int, *, threads: int, snapshotter: persistence.Snapshotter | None = None) -> None:
    """moto's WSGI app on waitress: werkzeug's dev server closes the connection after every response,
    so each SDK call paid a fresh TCP connect; waitress keeps HTTP/1.1 connections alive. Every
    long-poll holds a thread for up to 20 s, hence the large pool."""
    import waitress  # type: ignore[import-untyped]
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = LocalApp(DomainDispatcherApplication(create_backend_app), snapshotter)
    waitress.serve(app, host=host, port=port, threads=threads, connection_limit=4 * threads, channel_timeout=120,
                   ident="moto", _quiet=True)  # fmt: skip


def patch_dispatch() -> Callable[[], None]:
    """Fix 5; returns a function that undoes it (tests)."""
    from moto.core import responses
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from werkzeug.routing.matcher import StateMachineMatcher

    original = responses.method_names_from_class  # type: ignore[attr-defined]
    original_backend = DomainDispatcherApplication.get_backend_for_host
    original_match = StateMachineMatcher.match
    responses.method_names_from_class = functools.cache(original)  # type: ignore[attr-defined]
    DomainDispatcherApplication.get_backend_for_host = functools.lru_cache(maxsize=4096)(  # type: ignore[method-assign]
        original_backend
    )

    def match(self: Any, domain: str, path: str, method: str, websocket: bool) -> tuple[Any, dict[str, Any]]:
        """Flask's URL matching of every request against a service's hundreds of rules (16% of the
        server's time under a webhook burst): the same (domain, path, method) finds the same rule."""
        cache: dict[tuple[str, str, str, bool], tuple[Any, Any]] = self.__dict__.setdefault("_matched", {})
        key = (domain, path, method, websocket)
        if key not in cache:
            if len(cache) >= 4096:
                cache.clear()
            cache[key] = original_match(self, domain, path, method, websocket)  # a miss raises, and is not kept
        rule, values = cache[key]
        return rule, dict(values)

    StateMachineMatcher.match = match  # type: ignore[method-assign]

    def undo() -> None:
        responses.method_names_from_class = original  # type: ignore[attr-defined]
        DomainDispatcherApplication.get_backend_for_host = original_backend  # type: ignore[method-assign]
        StateMachineMatcher.match = original_match  # type: ignore[method-assign]

    return undo


def _who_holds_the_lock(signum: int, frame: FrameType | None) -> None:
    import re
    import traceback

    owner = re.search(r"owner=(\d+)", repr(_LOCK))
    print(f"quantlink-local: backend lock {_LOCK!r}", file=sys.stderr)
    stack = sys._current_frames().get(int(owner.group(1))) if owner else None
    if stack is not None:
        print("".join(traceback.format_stack(stack)), file=sys.stderr, flush=True)


STATE_UNUSABLE = 3  # exit code: the state file cannot be used (the message is on stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=256, help="concurrent requests (long-polls hold one each)")
    parser.add_argument("--state", type=Path, help="keep the state in this file (persistence.py); default: memory only")
    args = parser.parse_args(argv)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>`: every thread's stack, to stderr
    signal.signal(signal.SIGUSR2, _who_holds_the_lock)  # `kill -USR2 <pid>`: the backend lock's holder, to stderr
    patch_dynamodb()
    patch_dynamodb_expressions()
    patch_serializer()
    patch_sqs()
    patch_dispatch()
    patch_locking()
    outbox.patch_ses()
    # moto imports a service's models at its first request; the stack's first requests are at its start.
    for module in ("dynamodb", "sqs", "cognitoidp", "s3", "ses", "sesv2"):
        importlib.import_module(f"moto.{module}.responses")
    snapshotter = None
    if args.state is not None:
        try:
            restored = persistence.restore(args.state)
        except persistence.StateError as error:
            print(error, file=sys.stderr, flush=True)
            raise SystemExit(STATE_UNUSABLE) from None
        compact_every = float(os.environ.get(persistence.COMPACT_EVERY_VARIABLE) or persistence.COMPACT_EVERY)
        snapshotter = persistence.Snapshotter(
            args.state, _LOCK, segments=restored.segments, journal=restored.journal, compact_every=compact_every
        )
        snapshotter.load_duration = restored.snapshot_seconds + restored.replay_seconds
        snapshotter.replay_duration, snapshotter.replayed = restored.replay_seconds, restored.records
        if restored.records:
            snapshotter.mark_dirty(restored.touched)  # the replayed changes are in no snapshot yet
        global _SNAPSHOTTER
        _SNAPSHOTTER = snapshotter

        def stop(signum: int = 0, frame: FrameType | None = None) -> None:
            assert snapshotter is not None
            snapshotter.stop()
            try:
                snapshotter.snapshot_now()
            except Exception as error:  # noqa: BLE001 - said in one line; the last periodic snapshot stands
                print(f"quantlink-local: the last snapshot failed: {error}", file=sys.stderr, flush=True)
                os._exit(1)
            os._exit(0)

        # The stack stops this server itself, after its gateway (Ctrl-C reaches the whole process
        # group): SIGTERM, or the stack's death, is the moment of the last snapshot.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, stop)
        snapshotter.on_orphaned = stop
        snapshotter.start()
    serve(args.host, args.port, threads=args.threads, snapshotter=snapshotter)


if __name__ == "__main__":
    main()
