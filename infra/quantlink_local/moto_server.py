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
the answers to moto's own.

6. For the snapshots of persistence.py, the backends of SQS, Cognito, S3 and SES take the same lock
   (so a snapshot is one instant across services); an SQS long-poll lets go of it while it waits."""

from __future__ import annotations

import argparse
import copy
import functools
import importlib
import inspect
import io
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import Any

from quantlink_local import outbox, persistence

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


def _serialize_backend(backend: type, originals: dict[tuple[type, str], Any]) -> None:
    for name, member in list(vars(backend).items()):
        if name.startswith("_") or not inspect.isfunction(member):
            continue
        originals[(backend, name)] = member
        patched = _with_item_rollback(member) if name == "transact_write_items" else member
        setattr(backend, name, _serialized(patched))


def patch_dynamodb() -> Callable[[], None]:
    """Apply fixes 1-3 to moto's DynamoDB; returns a function that undoes them (tests)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    originals: dict[tuple[type, str], Any] = {(Table, "query"): Table.query}
    _serialize_backend(DynamoDBBackend, originals)
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


def patch_locking() -> Callable[[], None]:
    """Fix 6; returns a function that undoes it (tests)."""
    from moto.cognitoidp.models import CognitoIdpBackend
    from moto.s3.models import S3Backend
    from moto.ses.models import SESBackend
    from moto.sesv2.models import SESV2Backend
    from moto.sqs.models import Queue, SQSBackend

    originals: dict[tuple[type, str], Any] = {(Queue, "wait_for_messages"): Queue.wait_for_messages}
    for backend in (SQSBackend, CognitoIdpBackend, S3Backend, SESBackend, SESV2Backend):
        _serialize_backend(backend, originals)
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


@functools.lru_cache(maxsize=256)
def _hash_key_attribute(table_name: str) -> str | None:
    from moto.dynamodb.models import dynamodb_backends

    for _, _, backend in dynamodb_backends.iter_backends():
        table = backend.tables.get(table_name)  # type: ignore[attr-defined]
        if table is not None:
            return str(table.hash_key_attr)
    return None


class LocalApp:
    """moto's WSGI app plus what the local stack adds: the SES outbox at OUTBOX_PATH, and telling
    the snapshotter which requests may have changed the state."""

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
        if target is not None and target.startswith("DynamoDB_"):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            answer = self.app(environ, start_response)
            buckets = persistence.written_buckets(target.rpartition(".")[2], body, _hash_key_attribute)
            if buckets is None:
                _hash_key_attribute.cache_clear()  # a table may have been made or dropped
            self.snapshotter.mark_dirty(buckets)
            return answer
        answer = self.app(environ, start_response)
        if target is not None and target.endswith(".ReceiveMessage"):
            body = b"".join(answer)
            if b'"Messages"' in body:
                self.snapshotter.mark_dirty()
            return [body]
        self.snapshotter.mark_dirty()
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


STATE_UNUSABLE = 3  # exit code: the state file cannot be used (the message is on stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=256, help="concurrent requests (long-polls hold one each)")
    parser.add_argument("--state", type=Path, help="keep the state in this file (persistence.py); default: memory only")
    args = parser.parse_args(argv)
    patch_dynamodb()
    patch_sqs()
    patch_dispatch()
    patch_locking()
    outbox.patch_ses()
    # moto imports a service's models at its first request; the stack's first requests are at its start.
    for module in ("dynamodb", "sqs", "cognitoidp", "s3", "ses", "sesv2"):
        importlib.import_module(f"moto.{module}.responses")
    snapshotter = None
    if args.state is not None:
        started = time.monotonic()
        try:
            segments = persistence.load(args.state)
        except persistence.StateError as error:
            print(error, file=sys.stderr, flush=True)
            raise SystemExit(STATE_UNUSABLE) from None
        snapshotter = persistence.Snapshotter(args.state, _LOCK, segments=segments)
        snapshotter.load_duration = time.monotonic() - started

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
