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
import sys
import threading
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

FORMAT = 1
MAGIC = b"QUANTLINK-LOCAL-AWS-STATE\n"
SERVICES = ("dynamodb", "sqs", "cognito-idp", "s3", "ses", "sesv2")
INTERVAL = 0.25  # seconds between checks for a dirty state

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


def _dispatch_table() -> dict[Any, Any]:
    """How to pickle what moto's models hold besides plain data: locks and conditions come back
    new (nobody holds them in a fresh process), and the Cognito signing key as its JWK."""
    from joserfc import jwk

    table: dict[Any, Any] = dict(copyreg.dispatch_table)
    table[type(threading.Lock())] = lambda lock: (threading.Lock, ())
    table[type(threading.RLock())] = lambda lock: (threading.RLock, ())
    table[threading.Condition] = lambda condition: (threading.Condition, ())
    table[jwk.RSAKey] = lambda key: (jwk.RSAKey.import_key, (key.as_dict(private=True),))
    return table


def capture() -> dict[str, dict[str, dict[str, Any]]]:
    """service → account → region → backend, of every backend in use."""
    from moto.backends import get_backend

    state: dict[str, dict[str, dict[str, Any]]] = {}
    for service in SERVICES:
        backends = get_backend(service)  # type: ignore[call-overload]
        state[service] = {account: dict(regions) for account, regions in dict.items(backends)}
    return state


def install(state: dict[str, dict[str, dict[str, Any]]]) -> None:
    from moto.backends import get_backend

    for service, accounts in state.items():
        backends = get_backend(service)  # type: ignore[call-overload]
        for account, regions in accounts.items():
            per_account = backends[account]
            for region, backend in regions.items():
                dict.__setitem__(per_account, region, backend)


def encode(state: Any) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _dispatch_table()
    pickler.dump(state)
    payload = buffer.getbuffer()
    header = {
        "format": FORMAT,
        "moto": _moto_version(),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "length": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "savedAt": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
    }
    return MAGIC + json.dumps(header).encode() + b"\n" + bytes(payload)


def decode(data: bytes, path: Path) -> Any:
    if not data.startswith(MAGIC):
        raise StateError(f"{path} is not a QuantLink local state file (it does not start as one).")
    end = data.find(b"\n", len(MAGIC))
    try:
        header = json.loads(data[len(MAGIC) : end]) if end > 0 else None
    except ValueError:
        header = None
    if not isinstance(header, dict):
        raise StateError(f"{path} is damaged: its header cannot be read.")
    if header.get("format") != FORMAT:
        raise StateError(f"{path} was written in state format {header.get('format')!r}; this version reads {FORMAT}.")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    if header.get("moto") != _moto_version() or header.get("python") != python:
        raise StateError(
            f"{path} was written by moto {header.get('moto')} on Python {header.get('python')}; this stack runs "
            f"moto {_moto_version()} on Python {python}, which cannot read it."
        )
    payload = memoryview(data)[end + 1 :]
    if len(payload) != header.get("length"):
        raise StateError(
            f"{path} is truncated or damaged: {len(payload)} bytes of state where {header.get('length')} were written."
        )
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise StateError(f"{path} is damaged: its checksum does not match.")
    try:
        return pickle.loads(payload)  # noqa: S301 - our own file, checksummed, in the user's data directory
    except Exception as error:  # noqa: BLE001 - any failure to rebuild the objects is the same sentence
        raise StateError(f"{path} cannot be loaded ({type(error).__name__}: {error}).") from None


def load(path: Path) -> bool:
    """Install the state saved at `path`; False when there is none yet (a new data directory)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return False
    except OSError as error:
        raise StateError(f"{path} cannot be read: {error.strerror or error}.") from None
    install(decode(data, path))
    return True


def write(path: Path, data: bytes) -> None:
    """Write-then-rename, synced: the file at `path` is always a whole snapshot, old or new."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # logins and tokens: the owner's only
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class Snapshotter:
    """Keeps `path` at most one interval (plus one snapshot) behind the backends."""

    def __init__(self, path: Path, lock: threading.RLock, *, interval: float = INTERVAL) -> None:
        self.path = path
        self.lock = lock
        self.interval = interval
        self.snapshots = 0
        self.last_duration = 0.0
        self._dirty = False
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._parent = os.getppid()
        self.on_orphaned: Callable[[], None] | None = None

    def mark_dirty(self) -> None:
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

    def snapshot_in_child(self) -> None:
        started = time.monotonic()
        with self.lock:  # no backend call is half done: the child's copy is one instant
            self._dirty = False
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child, measured by the e2e tests
                code = 1
                with contextlib.suppress(BaseException):
                    gc.disable()  # collecting would copy every page for nothing; the child exits next
                    write(self.path, encode(capture()))
                    code = 0
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            self._dirty = True  # try again next interval; the previous snapshot is intact
            print(f"quantlink-local: a state snapshot to {self.path} failed; retrying", file=sys.stderr, flush=True)
            return
        self.snapshots += 1
        self.last_duration = time.monotonic() - started

    def snapshot_now(self) -> None:
        """In this process, under the lock: the last snapshot of a clean stop."""
        with self.lock:
            if self._dirty or not self.path.exists():
                self._dirty = False
                write(self.path, encode(capture()))
