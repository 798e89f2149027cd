"""Time in one place: China market time, ISO 8601 parsing that works on Python 3.8, an injectable clock."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from typing import Callable

# A-share trading runs on China Standard Time, which has no daylight saving: a fixed offset is exact
# and avoids zoneinfo (Python 3.9+, and tzdata is often missing on Windows).
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

Clock = Callable[[], datetime]
"""Returns the current aware datetime; injected so tests can move time without sleeping."""

_FRACTION = re.compile(r"\.(\d+)")


def system_clock() -> datetime:
    return datetime.now(CHINA_TZ)


def monotonic() -> float:
    return time.monotonic()


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 timestamp with offset; before 3.11 `fromisoformat` rejects `Z` and 1-2/4-5 digit
    fractions, both of which other producers emit."""
    normalized = text.strip()
    if normalized.endswith(("Z", "z")):
        normalized = normalized[:-1] + "+00:00"
    normalized = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], normalized, count=1)
    parsed = datetime.fromisoformat(normalized)
    if parsed.tzinfo is None:
        # The contract says times carry an offset; a naive one is most plausibly China time.
        parsed = parsed.replace(tzinfo=CHINA_TZ)
    return parsed


def to_iso(moment: datetime) -> str:
    return moment.astimezone(CHINA_TZ).isoformat(timespec="milliseconds")
