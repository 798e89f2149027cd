"""Jittered exponential backoff for reconnecting after network errors and 5xx."""

from __future__ import annotations

import random
from typing import Callable


class Backoff:
    """Full jitter (a uniform delay between 0 and the current ceiling): many terminals that lost the same
    server at once do not all come back in the same second."""

    def __init__(
        self, base: float = 1.0, cap: float = 60.0, rand: Callable[[], float] = random.random
    ) -> None:
        self._base = base
        self._cap = cap
        self._rand = rand
        self._failures = 0

    @property
    def failures(self) -> int:
        return self._failures

    def next_delay(self) -> float:
        ceiling = min(self._cap, self._base * 2 ** min(self._failures, 32))
        self._failures += 1
        return float(ceiling * self._rand())

    def reset(self) -> None:
        self._failures = 0
