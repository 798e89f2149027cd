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

5. moto finds the backend for every request by trying hundreds of URL regexes in turn, and lists a
   response class's methods with inspect.getmembers (~0.3 ms); both answers depend only on the host
   or the class, which do not change while the server runs, so both are memoized.

Each is a change of cost only, never of answers: the tests in tests/unit/test_moto_server.py hold
the answers to moto's own."""

from __future__ import annotations

import argparse
import copy
import functools
import inspect
import threading
import time
from collections.abc import Callable
from typing import Any

_LOCK = threading.RLock()


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


def _partition_only(query: Callable[..., Any]) -> Callable[..., Any]:
    """Table.query without an index reads one partition: hand it that partition, not the table."""
    signature = inspect.signature(query)

    @functools.wraps(query)
    def partitioned(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        hash_key = arguments.get("hash_key")
        if arguments.get("index_name") or hash_key is None or not self.range_key_attr:
            return query(self, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        comparison, operands = arguments.get("range_comparison"), arguments.get("range_objs")
        if comparison:
            partition = [item for item in partition if item.range_key.compare(comparison, operands)]
        self.all_items = lambda: partition  # an instance attribute shadows the method, for this call only
        try:
            return query(self, *args, **kwargs)
        finally:
            del self.all_items

    return partitioned


def patch_dynamodb() -> Callable[[], None]:
    """Apply fixes 1-3 to moto's DynamoDB; returns a function that undoes them (tests)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    originals: dict[tuple[type, str], Any] = {(Table, "query"): Table.query}
    for name, member in list(vars(DynamoDBBackend).items()):
        if name.startswith("_") or not inspect.isfunction(member):
            continue
        originals[(DynamoDBBackend, name)] = member
        patched = _with_item_rollback(member) if name == "transact_write_items" else member
        setattr(DynamoDBBackend, name, _serialized(patched))
    Table.query = _partition_only(Table.query)  # type: ignore[method-assign]

    def undo() -> None:
        for (owner, name), member in originals.items():
            setattr(owner, name, member)

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

    def undo() -> None:
        models.unix_time_millis = original_clock  # type: ignore[attr-defined]
        models.camelcase_to_underscores = original_names  # type: ignore[attr-defined]

    return undo


def serve(host: str, port: int, *, threads: int) -> None:
    """moto's WSGI app on waitress: werkzeug's dev server closes the connection after every response,
    so each SDK call paid a fresh TCP connect; waitress keeps HTTP/1.1 connections alive. Every
    long-poll holds a thread for up to 20 s, hence the large pool."""
    import waitress  # type: ignore[import-untyped]
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    waitress.serve(app, host=host, port=port, threads=threads, connection_limit=4 * threads, channel_timeout=120,
                   ident="moto", _quiet=True)  # fmt: skip


def patch_dispatch() -> Callable[[], None]:
    """Fix 5; returns a function that undoes it (tests)."""
    from moto.core import responses
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = responses.method_names_from_class  # type: ignore[attr-defined]
    original_backend = DomainDispatcherApplication.get_backend_for_host
    responses.method_names_from_class = functools.cache(original)  # type: ignore[attr-defined]
    DomainDispatcherApplication.get_backend_for_host = functools.lru_cache(maxsize=4096)(  # type: ignore[method-assign]
        original_backend
    )

    def undo() -> None:
        responses.method_names_from_class = original  # type: ignore[attr-defined]
        DomainDispatcherApplication.get_backend_for_host = original_backend  # type: ignore[method-assign]

    return undo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=256, help="concurrent requests (long-polls hold one each)")
    args = parser.parse_args(argv)
    patch_dynamodb()
    patch_sqs()
    patch_dispatch()
    serve(args.host, args.port, threads=args.threads)


if __name__ == "__main__":
    main()
