"""The moto server's state on disk: every AWS resource of the local stack in one snapshot file.

What is kept: moto's backends of the services the stack uses (DynamoDB tables, SQS queues with
their queued and in-flight messages, the Cognito pool with its users, passwords and signing key,
S3 buckets, SES identities and sent emails), pickled as they are, so a restored backend answers
exactly as the saved one did. An in-flight message keeps its absolute visibility deadline: it
comes back when that passes, like on SQS.

When: the server marks the state dirty after a request that can change it (`is_read_only` says
which cannot). Every `INTERVAL` seconds, if dirty, the snapshot thread forks the server while
holding the backend lock: the child holds a copy of the state at one instant across all services
and pickles it while the parent goes on serving (no request waits for pickling, only for the
fork itself, a few ms). The child writes write-then-rename (never a half-written file), so a crash
loses at most the changes of the last `INTERVAL` plus the time one snapshot takes (the crash
window, < 1 s at 10,000 signals; docs/PERFORMANCE.md). A clean stop takes a last snapshot after
the gateway has stopped, and loses nothing.

The file: a magic line, a JSON header (format, moto version, payload length and SHA-256), then
the pickle. Anything unexpected (truncated, altered, another moto version) is a `StateError` with
a sentence for the user; the file is never changed on a failed read."""

from __future__ import annotations

import contextlib
import copyreg
import datetime
import gc
import hashlib
import io
import json
import os
import pickle
import resource
import sys
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any

FORMAT = 1
MAGIC = b"QUANTLINK-LOCAL-AWS-STATE\n"
SERVICES = ("dynamodb", "sqs", "cognito-idp", "s3", "ses", "sesv2")
INTERVAL = 0.25  # seconds between checks for a dirty state
BUCKETS = 32  # files per DynamoDB table: a snapshot rewrites only those whose items changed
STATS_PATH = "/quantlink-local/snapshots"  # on the moto server: how the snapshots go (the bench reads it)

# Requests that never change state: JSON-protocol operations (X-Amz-Target) by name. Everything
# else marks the state dirty, except an SQS ReceiveMessage that returned no message.
READ_ONLY_OPERATIONS = frozenset(
    {
        # DynamoDB
        "GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "DescribeTable", "ListTables",
        "DescribeTimeToLive", "DescribeContinuousBackups", "ListTagsOfResource", "DescribeEndpoints",
        # SQS
        "GetQueueUrl", "GetQueueAttributes", "ListQueues", "ListQueueTags",
        # Cognito
        "DescribeUserPool", "DescribeUserPoolClient", "ListUserPools", "ListUserPoolClients",
        "AdminGetUser", "GetUser", "ListUsers",
    }
)  # fmt: skip


class StateError(Exception):
    """The snapshot file cannot be used; the message says why, in a sentence."""


def is_read_only(method: str, target: str | None) -> bool:
    if method in ("GET", "HEAD", "OPTIONS"):
        return True
    return target is not None and target.rpartition(".")[2] in READ_ONLY_OPERATIONS


def _moto_version() -> str:
    return version("moto")


def _typed_value(cls: Any, kind: str, value: Any) -> Any:
    """A DynamoType, without its constructor's parsing (the class comes in the pickle, memoized)."""
    restored = cls.__new__(cls)
    restored.type = kind
    restored.value = value
    return restored


def _limited_size_dict(cls: Any, items: dict[str, Any]) -> Any:
    """An item's attributes without the size check per key (O(n²) per item): it passed on write."""
    restored = cls.__new__(cls)
    dict.update(restored, items)
    return restored


def _rsa_key(cls: Any, pem: bytes, original: Any) -> Any:
    """The Cognito signing key, without re-checking its primes (~0.3 s per pool): it was checked
    when moto made it."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return cls(load_pem_private_key(pem, None, unsafe_skip_rsa_key_validation=True), original)


def _reduce_rsa_key(key: Any) -> Any:
    from cryptography.hazmat.primitives import serialization

    pem = key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return (_rsa_key, (type(key), pem, key.original_value))


def _dispatch_table() -> dict[Any, Any]:
    """How to pickle what moto's models hold besides plain data: locks and conditions come back
    new (nobody holds them in a fresh process), the Cognito signing key as its JWK, and DynamoDB's
    values in their shortest form (they are most of the state)."""
    from joserfc import jwk
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

    table: dict[Any, Any] = dict(copyreg.dispatch_table)
    table[type(threading.Lock())] = lambda lock: (threading.Lock, ())
    table[type(threading.RLock())] = lambda lock: (threading.RLock, ())
    table[threading.Condition] = lambda condition: (threading.Condition, ())
    table[jwk.RSAKey] = _reduce_rsa_key
    table[DynamoType] = lambda value: (_typed_value, (DynamoType, value.type, value.value))
    table[LimitedSizeDict] = lambda attrs: (_limited_size_dict, (LimitedSizeDict, dict(attrs)))
    return table


class _ItemsRef:
    """Stands in a table's `items` in the main file: the items are in the table's bucket files."""

    def __init__(self, key: str) -> None:
        self.key = key


def bucket_of(kind: str, value: Any) -> int | None:
    """The bucket file a hash key's items live in (None: a key kind this cannot place)."""
    if kind == "N":
        text = str(Decimal(value).normalize())
    elif kind == "S" and isinstance(value, str):
        text = value
    else:
        return None
    return zlib.crc32(f"{kind}:{text}".encode()) % BUCKETS


def written_buckets(operation: str, body: bytes, hash_keys: Callable[[str], str | None]) -> set[tuple[str, int]] | None:
    """The (table, bucket) pairs a DynamoDB write request touches; None when it cannot be told
    (a table operation, PartiQL, an unknown key): then every bucket is rewritten."""
    try:
        request = json.loads(body)
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            keyed = [(request["TableName"], request.get("Item") or request["Key"])]
        elif operation == "BatchWriteItem":
            keyed = [
                (table, (entry.get("PutRequest") or {}).get("Item") or entry["DeleteRequest"]["Key"])
                for table, entries in request["RequestItems"].items()
                for entry in entries
            ]
        elif operation == "TransactWriteItems":
            keyed = []
            for entry in request["TransactItems"]:
                (action,) = entry.values()
                keyed.append((action["TableName"], action.get("Item") or action["Key"]))
        else:
            return None
        touched = set()
        for table, key in keyed:
            hash_attribute = hash_keys(table)
            if hash_attribute is None:
                return None
            ((kind, value),) = key[hash_attribute].items()
            bucket = bucket_of(kind, value)
            if bucket is None:
                return None
            touched.add((table, bucket))
        return touched
    except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError):
        return None


def capture() -> dict[str, dict[str, dict[str, Any]]]:
    """service → account → region → backend, of every backend in use."""
    from moto.backends import get_backend

    state: dict[str, dict[str, dict[str, Any]]] = {}
    for service in SERVICES:
        backends = get_backend(service)  # type: ignore[call-overload]
        state[service] = {account: dict(regions) for account, regions in dict.items(backends)}
    return state


def _tables(state: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """ "account|region|table" → the table, for every DynamoDB table in `state`."""
    return {
        f"{account}|{region}|{name}": table
        for account, regions in state.get("dynamodb", {}).items()
        for region, backend in regions.items()
        for name, table in backend.tables.items()
    }


def install(state: dict[str, dict[str, dict[str, Any]]]) -> None:
    from moto.backends import get_backend

    for service, accounts in state.items():
        backends = get_backend(service)  # type: ignore[call-overload]
        for account, regions in accounts.items():
            per_account = backends[account]
            for region, backend in regions.items():
                dict.__setitem__(per_account, region, backend)


def encode(obj: Any, **extra: Any) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _dispatch_table()
    pickler.dump(obj)
    payload = buffer.getbuffer()
    header = {
        "format": FORMAT,
        "moto": _moto_version(),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "length": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "savedAt": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
        **extra,
    }
    return MAGIC + json.dumps(header).encode() + b"\n" + bytes(payload)


def read_header(data: bytes, path: Path) -> tuple[dict[str, Any], int]:
    if not data.startswith(MAGIC):
        raise StateError(f"{path} is not a QuantLink local state file (it does not start as one).")
    end = data.find(b"\n", len(MAGIC))
    try:
        header = json.loads(data[len(MAGIC) : end]) if end > 0 else None
    except ValueError:
        header = None
    if not isinstance(header, dict):
        raise StateError(f"{path} is damaged: its header cannot be read.")
    return header, end + 1


def decode(data: bytes, path: Path) -> Any:
    header, start = read_header(data, path)
    if header.get("format") != FORMAT:
        raise StateError(f"{path} was written in state format {header.get('format')!r}; this version reads {FORMAT}.")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    if header.get("moto") != _moto_version() or header.get("python") != python:
        raise StateError(
            f"{path} was written by moto {header.get('moto')} on Python {header.get('python')}; this stack runs "
            f"moto {_moto_version()} on Python {python}, which cannot read it."
        )
    payload = memoryview(data)[start:]
    if len(payload) != header.get("length"):
        raise StateError(
            f"{path} is truncated or damaged: {len(payload)} bytes of state where {header.get('length')} were written."
        )
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise StateError(f"{path} is damaged: its checksum does not match.")
    enabled = gc.isenabled()
    gc.disable()  # a collection per few thousand new objects, each walking them all: 2/3 of the time
    try:
        return pickle.loads(payload)  # noqa: S301 - our own file, checksummed, in the user's data directory
    except Exception as error:  # noqa: BLE001 - any failure to rebuild the objects is the same sentence
        raise StateError(f"{path} cannot be loaded ({type(error).__name__}: {error}).") from None
    finally:
        if enabled:
            gc.enable()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise StateError(f"{path} is missing (the state refers to it).") from None
    except OSError as error:
        raise StateError(f"{path} cannot be read: {error.strerror or error}.") from None


def load(path: Path) -> dict[str, str] | None:
    """Install the state saved at `path` (and its bucket files); None when there is none yet (a
    new data directory), else the bucket files it refers to (what the next snapshot builds on)."""
    if not path.exists():
        return None
    data = _read(path)
    header, _ = read_header(data, path)
    state = decode(data, path)
    segments: dict[str, str] = header.get("segments") or {}
    directory = segments_dir(path)
    for key, table in _tables(state).items():
        if not isinstance(table.items, _ItemsRef):
            continue  # written before the bucket files existed: its items are inline
        items: defaultdict[Any, Any] = defaultdict(dict)
        for bucket in range(BUCKETS):
            name = segments.get(f"{key}|{bucket}")
            if name is None:
                raise StateError(f"{path} is damaged: it names no bucket file for {key} #{bucket}.")
            items.update(decode(_read(directory / name), directory / name))
        table.items = items
    install(state)
    return segments


def segments_dir(path: Path) -> Path:
    return path.with_name(path.name + ".d")


def write(path: Path, data: bytes) -> None:
    """Write-then-rename, synced: the file at `path` is always a whole snapshot, old or new."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # logins and tokens: the owner's only
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


State = dict[str, dict[str, dict[str, Any]]]


def save(
    path: Path, state: State, segments: dict[str, str], dirty: set[tuple[str, int]] | None, generation: int
) -> dict[str, str]:
    """Write the bucket files of the `dirty` (table, bucket) pairs (None: all) under new names, then
    the main file naming them all, then delete the files it no longer names: at every moment the
    main file names a complete set. Returns the bucket files of the new main file."""
    directory = segments_dir(path)
    directory.mkdir(mode=0o700, exist_ok=True)
    written: dict[str, str] = {}
    tables = _tables(state)
    kept_items = {key: table.items for key, table in tables.items()}
    try:
        _save_buckets(directory, tables, segments, dirty, generation, written)
        _sync_directory(directory)
        write(path, encode(state, segments=written))
    finally:
        for key, table in tables.items():
            table.items = kept_items[key]
    keep = set(written.values())
    for stale in directory.iterdir():
        if stale.name not in keep:
            with contextlib.suppress(OSError):
                stale.unlink()
    return written


def _save_buckets(
    directory: Path, tables: dict[str, Any], segments: dict[str, str], dirty: set[tuple[str, int]] | None,
    generation: int, written: dict[str, str],
) -> None:  # fmt: skip
    """Each table's items to its bucket files (the unchanged ones kept), `items` replaced by a reference."""
    for key, table in tables.items():
        items = table.items
        name = key.rsplit("|", 1)[1]
        buckets: list[dict[Any, Any]] = [{} for _ in range(BUCKETS)]
        for hash_key, value in items.items():
            bucket = bucket_of(hash_key.type, hash_key.value)
            buckets[0 if bucket is None else bucket][hash_key] = value
        for bucket, contents in enumerate(buckets):
            segment = f"{key}|{bucket}"
            if dirty is not None and (name, bucket) not in dirty and segment in segments:
                written[segment] = segments[segment]
                continue
            file_name = f"{len(written):04d}-{generation}.bin"
            target = directory / file_name
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(encode(contents))
                file.flush()
                os.fsync(file.fileno())
            written[segment] = file_name
        table.items = _ItemsRef(key)


class Snapshotter:
    """Keeps `path` at most one interval (plus one snapshot) behind the backends."""

    def __init__(
        self, path: Path, lock: threading.RLock, *, segments: dict[str, str] | None = None, interval: float = INTERVAL
    ) -> None:
        self.path = path
        self.lock = lock
        self.interval = interval
        self.snapshots = 0
        self.last_duration = 0.0
        self.load_duration = 0.0
        self.busy = False
        self._segments = dict(segments or {})
        self._generation = time.time_ns()
        self._dirty = False
        self._buckets: set[tuple[str, int]] | None = set()  # None: every bucket
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._parent = os.getppid()
        self.on_orphaned: Callable[[], None] | None = None

    def mark_dirty(self, buckets: set[tuple[str, int]] | None = frozenset()) -> None:  # type: ignore[assignment]
        """Something changed; `buckets` are the DynamoDB buckets it touched (None: unknown, all)."""
        if buckets is None:
            self._buckets = None
        elif buckets and self._buckets is not None:
            self._buckets |= buckets
        self._dirty = True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="snapshots", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=60)

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            if os.getppid() != self._parent and self.on_orphaned is not None:
                self.on_orphaned()  # the stack that started this server is gone
                return
            if self._dirty:
                self.snapshot_in_child()

    def _take(self) -> tuple[set[tuple[str, int]] | None, int]:
        buckets = self._buckets
        self._dirty, self._buckets = False, set()
        self._generation += 1
        return buckets, self._generation

    def _give_back(self, buckets: set[tuple[str, int]] | None) -> None:
        self.mark_dirty(None if buckets is None else set(buckets))

    def snapshot_in_child(self) -> None:
        self.busy = True
        try:
            self._snapshot_in_child()
        finally:
            self.busy = False

    def _snapshot_in_child(self) -> None:
        started = time.monotonic()
        with self.lock:  # no backend call is half done: the child's copy is one instant
            buckets, generation = self._take()
            segments = dict(self._segments)
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child, measured by the e2e tests
                code = 1
                with contextlib.suppress(BaseException):
                    gc.disable()  # collecting would copy every page for nothing; the child exits next
                    # The child's copies of the server's sockets would hold closed connections open.
                    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
                    save(self.path, capture(), segments, buckets, generation)
                    code = 0
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            self._give_back(buckets)  # try again next interval; the previous snapshot is intact
            print(f"quantlink-local: a state snapshot to {self.path} failed; retrying", file=sys.stderr, flush=True)
            return
        header, _ = read_header(self.path.read_bytes()[: 1 << 20], self.path)
        self._segments = header.get("segments") or {}
        self.snapshots += 1
        self.last_duration = time.monotonic() - started

    def stats(self) -> dict[str, Any]:
        try:
            size = self.path.stat().st_size + sum(f.stat().st_size for f in segments_dir(self.path).iterdir())
        except FileNotFoundError:
            size = 0
        return {"snapshots": self.snapshots, "lastDurationMs": round(self.last_duration * 1000, 1), "bytes": size,
                "intervalMs": self.interval * 1000, "loadMs": round(self.load_duration * 1000, 1),
                "dirty": self._dirty, "busy": self.busy}  # fmt: skip

    def snapshot_now(self) -> None:
        """In this process, under the lock: the last snapshot of a clean stop."""
        with self.lock:
            if self._dirty or not self.path.exists():
                buckets, generation = self._take()
                self._segments = save(self.path, capture(), self._segments, buckets, generation)
