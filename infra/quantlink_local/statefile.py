"""The files of the local stack's AWS state (persistence.py decides what goes in them and when):
a magic line, a JSON header (format, moto and Python versions, payload length and checksum, and
whatever the caller adds), then a pickle of moto's objects. Anything unexpected on reading
(truncated, altered, another moto version) is a `StateError` with a sentence for the user; a file is
never changed by a failed read, and always written whole (write-then-rename, synced)."""

from __future__ import annotations

import copyreg
import datetime
import functools
import gc
import hashlib
import io
import json
import os
import pickle
import sys
import threading
from importlib.metadata import version
from pathlib import Path
from typing import Any

FORMAT = 1
MAGIC = b"QUANTLINK-LOCAL-AWS-STATE\n"


class StateError(Exception):
    """The snapshot file cannot be used; the message says why, in a sentence."""


@functools.cache
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


def checksum(payload: Any) -> str:
    """BLAKE2b, CPython's own: the snapshot child must not call into OpenSSL, whose locks another
    thread of the server may have held at the fork (the child would wait for them forever)."""
    return hashlib.blake2b(payload, digest_size=32).hexdigest()


_PEMS: dict[int, tuple[Any, bytes]] = {}  # id(key) → (key, its PEM): made in the parent, before a fork


def prepare_keys(keys: Any) -> None:
    """Serialize the signing keys now (OpenSSL), so that pickling them in a fork's child does not."""
    from cryptography.hazmat.primitives import serialization

    for key in keys:
        if id(key) not in _PEMS:
            pem = key.private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            _PEMS[id(key)] = (key, pem)


def _reduce_rsa_key(key: Any) -> Any:
    prepare_keys([key])  # a no-op when prepared before the fork
    return (_rsa_key, (type(key), _PEMS[id(key)][1], key.original_value))


@functools.cache
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


def dumps(obj: Any) -> memoryview:
    """A pickle of moto's objects, with the reductions of `_dispatch_table`."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _dispatch_table()
    pickler.dump(obj)
    return buffer.getbuffer()


def loads(payload: Any, path: Path) -> Any:
    """The objects of a checksummed pickle from `path` (only the sentence is said on failure)."""
    enabled = gc.isenabled()
    gc.disable()  # a collection per few thousand new objects, each walking them all: 2/3 of the time
    try:
        return pickle.loads(payload)  # noqa: S301 - our own file, checksummed, in the user's data directory
    except Exception as error:  # noqa: BLE001 - any failure to rebuild the objects is the same sentence
        raise StateError(f"{path} cannot be loaded ({type(error).__name__}: {error}).") from None
    finally:
        if enabled:
            gc.enable()


def versions() -> dict[str, Any]:
    """What a file says it was written by: a reader needs the same to unpickle it."""
    return {"format": FORMAT, "moto": _moto_version(), "python": f"{sys.version_info.major}.{sys.version_info.minor}"}


def check_versions(header: dict[str, Any], path: Path) -> None:
    if header.get("format") != FORMAT:
        raise StateError(f"{path} was written in state format {header.get('format')!r}; this version reads {FORMAT}.")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    if header.get("moto") != _moto_version() or header.get("python") != python:
        raise StateError(
            f"{path} was written by moto {header.get('moto')} on Python {header.get('python')}; this stack runs "
            f"moto {_moto_version()} on Python {python}, which cannot read it."
        )


def encode(obj: Any, **extra: Any) -> bytes:
    payload = dumps(obj)
    header = {
        **versions(),
        "length": len(payload),
        "blake2b": checksum(payload),
        "savedAt": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
        **extra,
    }
    return MAGIC + json.dumps(header).encode() + b"\n" + bytes(payload)


def read_header(data: bytes, path: Path, magic: bytes = MAGIC) -> tuple[dict[str, Any], int]:
    if not data.startswith(magic):
        raise StateError(f"{path} is not a QuantLink local state file (it does not start as one).")
    end = data.find(b"\n", len(magic))
    try:
        header = json.loads(data[len(magic) : end]) if end > 0 else None
    except ValueError:
        header = None
    if not isinstance(header, dict):
        raise StateError(f"{path} is damaged: its header cannot be read.")
    return header, end + 1


def decode(data: bytes, path: Path) -> Any:
    header, start = read_header(data, path)
    check_versions(header, path)
    payload = memoryview(data)[start:]
    if len(payload) != header.get("length"):
        raise StateError(
            f"{path} is truncated or damaged: {len(payload)} bytes of state where {header.get('length')} were written."
        )
    if checksum(payload) != header.get("blake2b"):
        raise StateError(f"{path} is damaged: its checksum does not match.")
    return loads(payload, path)


def read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise StateError(f"{path} is missing (the state refers to it).") from None
    except OSError as error:
        raise StateError(f"{path} cannot be read: {error.strerror or error}.") from None


def write(path: Path, data: bytes) -> None:
    """Write-then-rename, synced: the file at `path` is always a whole snapshot, old or new."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # logins and tokens: the owner's only
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
