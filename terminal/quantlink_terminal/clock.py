"""Time in one place: China market time, ISO 8601 parsing and formatting, an injectable clock.

Written against the oldest Python the agent's rules run on (PTrade's 3.5): no `datetime.fromisoformat`
(3.7) and no `isoformat(timespec=...)` (3.6), so the PTrade script and the agent share these functions.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta, timezone
from typing import Callable

# A-share trading runs on China Standard Time, which has no daylight saving: a fixed offset is exact
# and avoids zoneinfo (Python 3.9+, and tzdata is often missing on Windows).
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

Clock = Callable[[], datetime]
"""Returns the current aware datetime; injected so tests can move time without sleeping."""

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def system_clock() -> datetime:
    return datetime.now(CHINA_TZ)


def monotonic() -> float:
    return time.monotonic()


def _offset(text: str | None) -> timezone | None:
    if text is None:
        return None
    if text in ("Z", "z"):
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
    return timezone(sign * timedelta(minutes=minutes))


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 timestamp with offset (`Z`, `+08:00`, `+0800`, any number of fraction digits). The
    contract says times carry an offset; a naive one is most plausibly China time."""
    match = _ISO.match(text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 time: {text!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micros = int((fraction + "000000")[:6]) if fraction else 0
    parsed = datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micros
    )
    zone = _offset(offset)
    return parsed.replace(tzinfo=zone if zone is not None else CHINA_TZ)


def parse_date(text: str) -> date:
    """A YYYY-MM-DD calendar date."""
    match = _DATE.match(text.strip())
    if match is None:
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def to_iso(moment: datetime) -> str:
    """China time with milliseconds and offset: 2026-11-20T09:31:02.123+08:00."""
    local = moment.astimezone(CHINA_TZ)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f".{local.microsecond // 1000:03d}+08:00"
