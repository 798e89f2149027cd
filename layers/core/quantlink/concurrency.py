"""A process-wide thread pool for the concurrent AWS calls of one request (fan-out sends, per-message
updates of a pull). boto3 clients are thread-safe; one pool avoids spawning threads per request."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=64, thread_name_prefix="quantlink-io")


def start(fn: Callable[[], _R]) -> Future[_R]:
    """Run fn in the background; the caller takes .result() when it needs it."""
    return _pool().submit(fn)


def map_concurrently(fn: Callable[[_T], _R], items: Iterable[_T]) -> list[_R | BaseException]:
    """Run fn over items at once; each result is the return value or the exception it raised."""
    work = list(items)
    if len(work) <= 1:  # no thread hop for the common single-terminal case
        return [_call(fn, item) for item in work]
    return list(_pool().map(lambda item: _call(fn, item), work))


def _call(fn: Callable[[_T], _R], item: _T) -> _R | BaseException:
    try:
        return fn(item)
    except Exception as error:  # noqa: BLE001 - the caller decides per item
        return error
