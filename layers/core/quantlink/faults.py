"""The one fault-injection seam: named points in the domain code where a test can make the process
"die" (raise) to prove what recovers it. Nothing is armed in production, where `point` costs one dict
lookup; tests arm a point for a number of hits (`armed(...)`), and no other code branches on tests.

Points:
    AFTER_RECORD   the webhook recorded the signal (dedup + RECEIVED + its delivery records) and has
                   sent nothing yet
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

AFTER_RECORD = "relay.after_record"

_lock = threading.Lock()
_armed: dict[str, int] = {}


class InjectedFault(RuntimeError):
    """What an armed point raises: an unplanned crash, as the caller would see one."""


def point(name: str) -> None:
    if not _armed:
        return
    with _lock:
        left = _armed.get(name, 0)
        if left <= 0:
            return
        _armed[name] = left - 1
    raise InjectedFault(f"injected fault at {name}")


def arm(name: str, *, times: int = 1) -> None:
    with _lock:
        _armed[name] = times


def disarm() -> None:
    with _lock:
        _armed.clear()


@contextmanager
def armed(name: str, *, times: int = 1) -> Iterator[None]:
    arm(name, times=times)
    try:
        yield
    finally:
        disarm()
