"""The moto server's state on disk: every AWS resource of the local stack, as a snapshot plus a
journal of the changes since.

What is kept: moto's backends of the services the stack uses (DynamoDB tables, SQS queues with
their queued and in-flight messages, the Cognito pool with its users, passwords and signing key,
S3 buckets, SES identities and sent emails), pickled as they are, so a restored backend answers
exactly as the saved one did. An in-flight message keeps its absolute visibility deadline: it
comes back when that passes, like on SQS.

The journal (journal.py, records in changes.py): before a write is answered, the server appends
what it changed (after-images, read under the backend lock) in one unbuffered write, so a killed
process loses nothing answered; a thread fsyncs it every journal.FSYNC_INTERVAL (the power-loss
window). `Snapshotter.record` is where the server hands the records in.

The snapshot: `aws-state.bin` holds everything but the DynamoDB items and the SQS queues, which are in
`aws-state.bin.d/`: BUCKETS files per table (by a hash of the item's whole key: a strategy's partition,
which holds every signal and delivery of the strategy, is spread over all of them, and a burst of
webhooks touches a few items in many partitions) and one per queue. The main file names the files it
goes with and the first journal it does not hold, and is written last (statefile.py:
write-then-rename), so it always names a complete set; a snapshot rewrites only the files whose
contents changed since the last one (what the journaled records touched).

When: every COMPACT_EVERY seconds while the state is dirty, or once the journal passes JOURNAL_LIMIT
bytes, the snapshot thread forks the server while holding the backend lock and starts the next
journal at that instant: the child holds a copy of the state at one instant across all services and
writes the changed files and the main file while the parent goes on serving (a request waits only for
the fork); then the journals before it are deleted. A clean stop takes a last snapshot in-process
after the gateway has stopped. A restart (`restore`) loads the snapshot and replays, in order, every
journal from the one it names (a failed or killed snapshot leaves the previous one and all journals
since: nothing is lost either way)."""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import resource
import signal
import sys
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from quantlink_local import changes
from quantlink_local.journal import Journal, journal_path, read_journal, remove_before, sequences
from quantlink_local.statefile import (
    MAGIC,
    StateError,
    decode,
    encode,
    prepare_keys,
    read,
    read_header,
    sync_directory,
    write,
)

__all__ = ["MAGIC", "Snapshotter", "StateError", "decode", "encode", "load", "restore", "save", "write"]

SERVICES = ("dynamodb", "sqs", "cognito-idp", "s3", "ses", "sesv2")
INTERVAL = 0.25  # seconds between checks for a snapshot to take
COMPACT_EVERY = 60.0  # seconds: a state changed since the last snapshot is snapshotted this often...
JOURNAL_LIMIT = 32 << 20  # ... or when the journal since it passes this many bytes
COMPACT_EVERY_VARIABLE = "QUANTLINK_LOCAL_COMPACT_EVERY"  # seconds, instead of COMPACT_EVERY (the bench)
CHILD_TIMEOUT = 60.0  # seconds a snapshot child may take before it is killed and the snapshot retried
BUCKETS = 1024  # files per DynamoDB table: a snapshot rewrites only those whose items changed
BUCKETING = "item"  # what a bucket is the hash of (the header says; "partition" before it did)
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


def is_read_only(method: str, target: str | None) -> bool:
    if method in ("GET", "HEAD", "OPTIONS"):
        return True
    return target is not None and target.rpartition(".")[2] in READ_ONLY_OPERATIONS


Touched = changes.Touched


class _Ref:
    """Stands in the main file for what is in a file of its own: a table's items, a queue."""

    def __init__(self, key: str) -> None:
        self.key = key


def _key_text(kind: str, value: Any) -> str | None:
    if kind == "N":
        return f"N:{Decimal(value).normalize()}"
    if kind == "S" and isinstance(value, str):
        return f"S:{value}"
    return None


def bucket_of(kind: str, value: Any, range_kind: str | None = None, range_value: Any = None) -> int | None:
    """The bucket file an item lives in, by its hash key and (on a table that has one) its range key
    (None: a key kind this cannot place)."""
    text = _key_text(kind, value)
    if text is None:
        return None
    if range_kind is not None:
        range_text = _key_text(range_kind, range_value)
        if range_text is None:
            return None
        text = f"{text}|{range_text}"
    return zlib.crc32(text.encode()) % BUCKETS


def _split(hash_key: Any, partition: dict[Any, Any], wanted: set[int]) -> dict[int, dict[Any, Any]]:
    """A partition's items by bucket (bucket_of of each item's key), only for the `wanted` buckets;
    the hash key's part of the checksum is computed once for the partition."""
    text = _key_text(hash_key.type, hash_key.value)
    prefix = None if text is None else zlib.crc32(f"{text}|".encode())
    parts: dict[int, dict[Any, Any]] = {}
    for range_key, item in partition.items():
        range_text = _key_text(range_key.type, range_key.value)
        bucket = 0 if prefix is None or range_text is None else zlib.crc32(range_text.encode(), prefix) % BUCKETS
        if bucket in wanted:
            parts.setdefault(bucket, {})[range_key] = item
    return parts


KeyAttributes = Callable[[str], "tuple[str, str | None] | None"]  # table -> (hash key, range key) names


def written_items(target: str, body: bytes) -> list[tuple[str, dict[str, Any]]] | None:
    """(table, key as in the request) of every item a DynamoDB item write names ([]: not an item
    write of DynamoDB; None: a DynamoDB write whose items cannot be told: a table operation, PartiQL)."""
    service, _, operation = target.partition(".")
    if not service.startswith("DynamoDB_"):
        return []
    try:
        request = json.loads(body)
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            return [(request["TableName"], request.get("Item") or request["Key"])]
        if operation == "BatchWriteItem":
            return [
                (table, (entry.get("PutRequest") or {}).get("Item") or entry["DeleteRequest"]["Key"])
                for table, entries in request["RequestItems"].items()
                for entry in entries
            ]
        if operation == "TransactWriteItems":
            keyed = []
            for entry in request["TransactItems"]:
                (action,) = entry.values()
                keyed.append((action["TableName"], action.get("Item") or action["Key"]))
            return keyed
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return None


def bucket_of_key(hash_key: Any, range_key: Any) -> int | None:
    """bucket_of for moto's key values (DynamoType)."""
    if range_key is None:
        return bucket_of(hash_key.type, hash_key.value)
    return bucket_of(hash_key.type, hash_key.value, range_key.type, range_key.value)


State = dict[str, dict[str, dict[str, Any]]]


def capture() -> State:
    """service → account → region → backend, of every backend in use."""
    from moto.backends import get_backend

    state: State = {}
    for service in SERVICES:
        backends = get_backend(service)  # type: ignore[call-overload]
        state[service] = {account: dict(regions) for account, regions in dict.items(backends)}
    return state


def _tables(state: State) -> dict[str, Any]:
    """ "account|region|table" → the table, for every DynamoDB table in `state`."""
    return {
        f"{account}|{region}|{name}": table
        for account, regions in state.get("dynamodb", {}).items()
        for region, backend in regions.items()
        for name, table in backend.tables.items()
    }


def _queues(state: State) -> list[tuple[str, Any, str]]:
    """("sqs|account|region|queue", its backend, its name), for every SQS queue in `state`."""
    return [
        (f"sqs|{account}|{region}|{name}", backend, name)
        for account, regions in state.get("sqs", {}).items()
        for region, backend in regions.items()
        for name in list(backend.queues)
    ]


def install(state: State) -> None:
    from moto.backends import get_backend

    for service, accounts in state.items():
        backends = get_backend(service)  # type: ignore[call-overload]
        for account, regions in accounts.items():
            per_account = backends[account]
            for region, backend in regions.items():
                dict.__setitem__(per_account, region, backend)


def load(path: Path) -> dict[str, str] | None:
    """Install the state saved at `path` (and its files); None when there is none yet (a new data
    directory), else the files it refers to (what the next snapshot builds on)."""
    loaded = _load(path)
    return None if loaded is None else loaded[0]


@dataclass
class Restored:
    """What a restart found: the snapshot's files, the next journal's sequence, what the replayed
    journal records changed since the snapshot (the next snapshot rewrites it), and how much."""

    segments: dict[str, str]
    journal: int
    touched: Touched | None
    records: int = 0
    frames: int = 0
    snapshot_seconds: float = 0.0
    replay_seconds: float = 0.0


def restore(path: Path) -> Restored:
    """Install the snapshot at `path`, then replay the journals it continues with, in order.

    The garbage collector is off meanwhile (it would walk the millions of new objects again and
    again: half the time), and what was loaded is frozen out of its sight afterwards (a collection
    while the server runs would walk it all, under whatever lock the collecting thread holds)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _restore(path)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _restore(path: Path) -> Restored:
    started = time.monotonic()
    loaded = _load(path)
    segments, first = ({}, 1) if loaded is None else (loaded[0], int(loaded[1].get("journal", 1)))
    restored = Restored(segments, first, set(), snapshot_seconds=time.monotonic() - started)
    started = time.monotonic()
    for sequence in sequences(path):
        restored.journal = max(restored.journal, sequence + 1)
        if sequence < first:
            continue  # folded into the snapshot already (its deletion did not happen)
        where = journal_path(path, sequence)
        for records in read_journal(where):
            changes.apply(records, str(where))
            restored.frames += 1
            restored.records += len(records)
            touched = changes.touched_by_records(records, bucket_of_key)
            if touched is None or restored.touched is None:
                restored.touched = None
            else:
                restored.touched |= touched
    restored.replay_seconds = time.monotonic() - started
    return restored


def _load(path: Path) -> tuple[dict[str, str], dict[str, Any]] | None:
    if not path.exists():
        return None
    data = read(path)
    header, _ = read_header(data, path)
    state = decode(data, path)
    segments: dict[str, str] = header.get("segments") or {}
    buckets = header.get("buckets", 32)  # how many the writer used (32 before the header said)
    directory = segments_dir(path)

    def segment(key: str) -> Any:
        name = segments.get(key)
        if name is None:
            raise StateError(f"{path} is damaged: it names no file for {key}.")
        return decode(read(directory / name), directory / name)

    sparse = header.get("bucketing") == BUCKETING  # an empty bucket has no file
    for key, table in _tables(state).items():
        if isinstance(table.items, _Ref):
            items: defaultdict[Any, Any] = defaultdict(dict)
            for bucket in range(buckets):
                if sparse and f"{key}|{bucket}" not in segments:
                    continue
                for hash_key, stored in segment(f"{key}|{bucket}").items():
                    if table.range_key_attr:  # a partition's items may be in many buckets
                        items[hash_key].update(stored)
                    else:
                        items[hash_key] = stored
            table.items = items
    for key, backend, name in _queues(state):
        if isinstance(backend.queues[name], _Ref):
            backend.queues[name] = segment(key)
    install(state)
    same = buckets == BUCKETS and header.get("bucketing", "partition") == BUCKETING
    return (segments if same else {}), header  # bucketed otherwise: the next snapshot rewrites all


def segments_dir(path: Path) -> Path:
    return path.with_name(path.name + ".d")


def save(
    path: Path, state: State, segments: dict[str, str], dirty: Touched | None, generation: int, journal: int = 1
) -> dict[str, str]:
    """Write the files of what is `dirty` (None: everything) under new names, then the main file
    naming them all and the first journal it does not hold, then delete the files it no longer
    names: at every moment the main file names a complete set. Returns the files of the new main file."""
    directory = segments_dir(path)
    directory.mkdir(mode=0o700, exist_ok=True)
    written: dict[str, str] = {}
    undo: list[Callable[[], None]] = []

    def put(key: str, touch: tuple[Any, ...], obj: Any, *, optional: bool = False) -> None:
        if dirty is not None and touch not in dirty and key in segments:
            written[key] = segments[key]  # unchanged since the last snapshot: its file stands
            return
        if optional and not obj:
            return  # an empty bucket: no file (one fsync fewer for each)
        file_name = f"{len(written):05d}-{generation}.bin"
        fd = os.open(directory / file_name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(encode(obj))
            file.flush()
            os.fsync(file.fileno())
        written[key] = file_name

    try:
        for key, table in _tables(state).items():
            items, name = table.items, key.rsplit("|", 1)[1]
            # Only the buckets this snapshot writes are filled: the others' files stand.
            wanted = {b for b in range(BUCKETS) if dirty is None or ("dynamodb", name, b) in dirty
                      or f"{key}|{b}" not in segments}  # fmt: skip
            buckets: list[dict[Any, Any]] = [{} for _ in range(BUCKETS)]
            for hash_key, value in items.items():
                if not table.range_key_attr:
                    bucket = bucket_of(hash_key.type, hash_key.value)
                    if (0 if bucket is None else bucket) in wanted:
                        buckets[0 if bucket is None else bucket][hash_key] = value
                    continue
                for bucket, part in _split(hash_key, value, wanted).items():
                    buckets[bucket][hash_key] = part
            for bucket, contents in enumerate(buckets):
                put(f"{key}|{bucket}", ("dynamodb", name, bucket), contents, optional=True)
            table.items = _Ref(key)
            undo.append(functools.partial(setattr, table, "items", items))
        for key, backend, name in _queues(state):
            queue = backend.queues[name]
            if queue.dead_letter_queue is not None or any(
                q.dead_letter_queue is queue for q in backend.queues.values() if not isinstance(q, _Ref)
            ):
                continue  # queues that refer to each other stay together, in the main file
            put(key, ("sqs", name), queue)
            backend.queues[name] = _Ref(key)
            undo.append(functools.partial(backend.queues.__setitem__, name, queue))
        sync_directory(directory)
        write(path, encode(state, segments=written, buckets=BUCKETS, bucketing=BUCKETING, journal=journal))
    finally:
        for step in reversed(undo):
            step()
    keep = set(written.values())
    for stale in directory.iterdir():
        if stale.name not in keep:
            with contextlib.suppress(OSError):
                stale.unlink()
    return written


def _signing_keys() -> list[Any]:
    from moto.cognitoidp.models import cognitoidp_backends

    return [
        pool.json_web_key
        for _, _, backend in cognitoidp_backends.iter_backends()
        for pool in backend.user_pools.values()  # type: ignore[attr-defined]
    ]


def _wait(pid: int, timeout: float) -> int | None:
    """The child's wait status; None if it had to be killed (stuck: the snapshot is retried)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


class Snapshotter:
    """Journals every change before it is answered, and folds the journal into a snapshot now and
    then (`compact_every` seconds while dirty, or when the journal passes `journal_limit` bytes)."""

    def __init__(
        self,
        path: Path,
        lock: threading.RLock,
        *,
        segments: dict[str, str] | None = None,
        journal: int = 1,
        interval: float = INTERVAL,
        compact_every: float = COMPACT_EVERY,
        journal_limit: int = JOURNAL_LIMIT,
    ) -> None:
        self.path = path
        self.lock = lock
        self.interval = interval
        self.compact_every = compact_every
        self.journal_limit = journal_limit
        self.snapshots = 0
        self.last_duration = 0.0
        self.last_hold = 0.0  # how long the last snapshot held the backend lock (its fork): every request waited
        self.load_duration = 0.0
        self.replay_duration = 0.0
        self.replayed = 0
        self.busy = False
        self._segments = dict(segments or {})
        self._generation = time.time_ns()
        self._dirty = False
        self._touched: Touched | None = set()  # None: everything
        self._last_snapshot = time.monotonic()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._parent = os.getppid()
        self.on_orphaned: Callable[[], None] | None = None
        self.journal = Journal(path, journal)

    def record(self, records: list[changes.Record]) -> None:
        """Journal what a write changed (the caller holds the backend lock), before it is answered."""
        if records:
            self.journal.append(records)
            self.mark_dirty(changes.touched_by_records(records, bucket_of_key))

    def mark_dirty(self, touched: Touched | None) -> None:
        """Something changed; `touched` says what outside the main file (None: unknown, everything)."""
        if touched is None:
            self._touched = None
        elif touched and self._touched is not None:
            self._touched |= touched
        self._dirty = True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="snapshots", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=60)

    def due(self) -> bool:
        return self._dirty and (
            self.journal.size >= self.journal_limit or time.monotonic() - self._last_snapshot >= self.compact_every
        )

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            if os.getppid() != self._parent and self.on_orphaned is not None:
                self.on_orphaned()  # the stack that started this server is gone
                return
            if self.due():
                self.snapshot_in_child()

    def _take(self) -> tuple[Touched | None, int, int]:
        """At the snapshot's instant (under the lock): what it rewrites, and the journal that
        continues after it."""
        buckets = self._touched
        self._dirty, self._touched = False, set()
        self._generation += 1
        return buckets, self._generation, self.journal.rotate()

    def _give_back(self, buckets: Touched | None) -> None:
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
            buckets, generation, journal = self._take()
            segments = dict(self._segments)
            prepare_keys(_signing_keys())
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child, measured by the e2e tests
                code = 1
                with contextlib.suppress(BaseException):
                    gc.disable()  # collecting would copy every page for nothing; the child exits next
                    # The child's copies of the server's sockets would hold closed connections open.
                    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
                    save(self.path, capture(), segments, buckets, generation, journal)
                    code = 0
                os._exit(code)
        self.last_hold = time.monotonic() - started
        self._last_snapshot = time.monotonic()
        status = _wait(pid, CHILD_TIMEOUT)
        if status is None or os.waitstatus_to_exitcode(status) != 0:
            # The previous snapshot stands, with every journal since: retried at the next interval.
            self._give_back(buckets)
            self._last_snapshot = 0.0
            print(f"quantlink-local: a state snapshot to {self.path} failed; retrying", file=sys.stderr, flush=True)
            return
        header, _ = read_header(self.path.read_bytes()[: 1 << 20], self.path)
        self._segments = header.get("segments") or {}
        remove_before(self.path, journal)
        self.snapshots += 1
        self.last_duration = time.monotonic() - started

    def stats(self) -> dict[str, Any]:
        try:
            size = self.path.stat().st_size + sum(f.stat().st_size for f in segments_dir(self.path).iterdir())
        except FileNotFoundError:
            size = 0
        return {"snapshots": self.snapshots, "lastDurationMs": round(self.last_duration * 1000, 1), "bytes": size,
                "intervalMs": self.interval * 1000, "loadMs": round(self.load_duration * 1000, 1),
                "replayMs": round(self.replay_duration * 1000, 1), "replayedRecords": self.replayed,
                "dirty": self._dirty, "busy": self.busy, "lastLockHoldMs": round(self.last_hold * 1000, 1),
                "journalBytes": self.journal.size, "journaledBytes": self.journal.appended,
                "journalFrames": self.journal.records,
                "lastFsyncLagMs": round(self.journal.last_sync_lag * 1000, 1),
                "fsyncIntervalMs": self.journal.fsync_interval * 1000}  # fmt: skip

    def snapshot_now(self) -> None:
        """In this process, under the lock: the last snapshot of a clean stop."""
        with self.lock:
            if self._dirty or not self.path.exists() or sequences(self.path)[:1] != [self.journal.sequence]:
                buckets, generation, journal = self._take()
                self._segments = save(self.path, capture(), self._segments, buckets, generation, journal)
                remove_before(self.path, journal)
            self.journal.close()
