"""What every benchmark reports: a figure, and where it can be, a ratio to a floor measured in the same run."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

# The bench's stacks: throughput runs send hundreds of signals a second to one strategy, so the webhook's
# rate limit is raised out of their way (a template Parameter override); its count is still written.
BENCH_RATE_LIMIT = "WebhookRateLimit=1000000000"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    ratio: float | None = None  # value ÷ floor measured in the same run
    floor: str = ""  # what the ratio is against
    target: float | None = None  # the ratio must be <= target
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.target is None or self.ratio is None:
            return None
        return self.ratio <= self.target


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    k = (len(ordered) - 1) * pct / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(samples: list[float]) -> float:
    return statistics.median(samples)
