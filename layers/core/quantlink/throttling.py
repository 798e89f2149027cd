"""Per-terminal throttling of pulls and acks (API.md: `RATE_LIMITED`, 429 with `Retry-After`).

A fixed-window counter kept on the terminal's own record: `<name>Window` (the window's number, epoch
seconds // window) and `<name>Count` (calls counted in it). The pull advances it inside the device
claim's conditional write, which the pull makes anyway, so an admitted pull costs no extra round trip;
the ack makes one small conditional write of its own. The write's condition, not the record read at
authentication, decides: of two calls racing for the last slot exactly one is admitted.

The limits are template Parameters (TerminalPullLimit, TerminalAckLimit, TerminalRateWindowSeconds),
read as environment variables (settings.TerminalSettings), and sit far above what a working agent
sends: a long-poll every 20 s is 3 pulls a minute, a burst of 50 signals 5 pulls and 50 acks, and even
the load bench's trading morning compressed into a minute stays under them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from quantlink.errors import RateLimited
from quantlink.ratelimit import RateLimit

if TYPE_CHECKING:
    from quantlink.models import Terminal

RateName = Literal["pull", "ack"]


@dataclass(frozen=True, kw_only=True)
class TerminalRate(RateLimit):
    """A terminal's pull or ack limit: the window rule of quantlink.ratelimit, counted on the terminal's
    own record under this name's attributes."""

    name: RateName

    @property
    def window_attribute(self) -> str:
        return f"{self.name}Window"

    @property
    def count_attribute(self) -> str:
        return f"{self.name}Count"

    def refused(self, at: datetime) -> RateLimited:
        seconds = self.retry_after(at)
        return RateLimited(
            f"Too many {self.name} requests for this terminal (at most {self.limit} per {self.window_seconds} s);"
            f" retry in {seconds} s.",
            retry_after=seconds,
        )

    def admit(self, stored_window: int | None, stored_count: int, at: datetime) -> tuple[int, int]:
        """The rule the store's conditional write enforces, as a function: the (window, count) to store
        after admitting this call, given what the record holds; raises RateLimited."""
        window = max(self.window(at), stored_window if stored_window is not None else 0)
        if stored_window != window:
            return window, 1
        if stored_count >= self.limit:
            raise self.refused(at)
        return window, stored_count + 1


@dataclass(frozen=True)
class RateCounted:
    """A call to count against `limit`, and the window the terminal's record held when it was read
    (what shapes the store's write; the write's condition decides)."""

    limit: TerminalRate
    seen_window: int | None

    @classmethod
    def of(cls, limit: TerminalRate, terminal: Terminal) -> RateCounted:
        return cls(limit, getattr(terminal, f"{limit.name}_window"))
