"""The moto server of the local stack, with DynamoDB made safe under concurrency.

moto's DynamoDB backend has no locking: two conditional writes to one key, arriving at once over HTTP,
can both succeed, and a Query can iterate a dict another request is changing. Dedup and device claims
depend on conditional writes, so every backend call takes one process-wide lock, as a single DynamoDB
partition would serialize them."""

from __future__ import annotations

import argparse
import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

_LOCK = threading.RLock()


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    return locked


def serialize_dynamodb() -> list[str]:
    """Wrap every public DynamoDBBackend method (reads too) in the lock; returns their names."""
    from moto.dynamodb.models import DynamoDBBackend

    wrapped = []
    for name, member in list(vars(DynamoDBBackend).items()):
        if name.startswith("_") or not inspect.isfunction(member) or hasattr(member, "__wrapped__"):
            continue
        setattr(DynamoDBBackend, name, _serialized(member))
        wrapped.append(name)
    return wrapped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    serialize_dynamodb()
    from moto.server import main as moto_main

    moto_main(["-H", args.host, "-p", str(args.port)])


if __name__ == "__main__":
    main()
