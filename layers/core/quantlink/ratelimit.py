"""A strategy's webhook rate limit: at most `limit` recorded signals per fixed window of `window_seconds`.

Counted by one item per (strategy, window) that the dedup transaction itself updates with a condition
(quantlink.dal.signals), so the limit costs the hot path no extra round trip, a duplicate (whose
transaction is cancelled) is never counted, and a refused webhook records nothing at all. A fixed window
lets up to twice the limit through across a window's edge; it exists to stop a runaway strategy, not to
meter a well-behaved one (a rebalance's burst of ~50 orders passes the default 100 per 10 s)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` per fixed window of `window_seconds`; windows start at whole multiples of it
    since the epoch, so every process counts the same window without talking to the others. The
    webhook's per-strategy limit and the terminals' (quantlink.throttling) are both this rule."""

    limit: int
    window_seconds: int

    def window(self, at: datetime) -> int:
        """The number of the window holding `at`."""
        return int(at.timestamp()) // self.window_seconds

    def window_start(self, at: datetime) -> int:
        """The epoch second the window holding `at` began."""
        return self.window(at) * self.window_seconds

    def retry_after(self, at: datetime) -> int:
        """Whole seconds until the next window opens (at least 1), as a Retry-After header has them."""
        return max(1, math.ceil(self.window_start(at) + self.window_seconds - at.timestamp()))
