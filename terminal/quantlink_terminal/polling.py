"""Cost-aware polling: long-poll while the market can send signals, poll cheaply while it cannot.

A long-poll holds a Lambda for every second it waits (API.md: up to 20 s per pull), and that second is
billed. Around the trading sessions the agent long-polls as before; outside them (nights, lunch, weekends,
holidays) it asks with `wait=0`, which returns at once, and sleeps `idle_interval` seconds in between.
A signal that arrives then is picked up within `idle_interval`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from quantlink_terminal.calendar import MarketCalendar
from quantlink_terminal.clock import CHINA_TZ

# Long-poll from a little before each session opens to a little after it closes (China time).
ACTIVE_WINDOWS = ((time(9, 10), time(11, 35)), (time(12, 55), time(15, 5)))


@dataclass(frozen=True)
class PollingSettings:
    active_wait: int = 20  # seconds a pull may wait inside the active windows (API.md: 0..20)
    idle_interval: float = 60.0  # seconds between cheap polls outside them; 0 long-polls around the clock
    # Push (API.md "Push"): hold the server's WebSocket when it offers one, and then pull with wait=0
    # only as a safety net, every push_pull_interval seconds in the windows, push_idle_pull_interval outside.
    push: bool = True
    push_pull_interval: float = 300.0
    push_idle_pull_interval: float = 1800.0

    def __post_init__(self) -> None:
        if not 0 <= self.active_wait <= 20:
            raise ValueError(f"active_wait must be 0..20 seconds, got {self.active_wait!r}")
        if not 0 <= self.idle_interval <= 600:
            raise ValueError(f"idle_interval must be 0..600 seconds, got {self.idle_interval!r}")
        for name in ("push_pull_interval", "push_idle_pull_interval"):
            if not 1 <= getattr(self, name) <= 7200:
                raise ValueError(f"{name} must be 1..7200 seconds, got {getattr(self, name)!r}")


@dataclass(frozen=True)
class PollPlan:
    wait: int  # the pull's `wait`
    idle_sleep: float  # seconds to sleep after an empty answer


class PollPolicy:
    def __init__(self, settings: PollingSettings, calendar: MarketCalendar) -> None:
        self.settings = settings
        self._calendar = calendar

    def active(self, moment: datetime) -> bool:
        local = moment.astimezone(CHINA_TZ)
        if not self._calendar.is_trading_day(local.date()):
            return False
        return any(start <= local.time() < end for start, end in ACTIVE_WINDOWS)

    def plan(self, moment: datetime) -> PollPlan:
        if self.settings.idle_interval == 0 or self.active(moment):
            return PollPlan(wait=self.settings.active_wait, idle_sleep=0.0)
        return PollPlan(wait=0, idle_sleep=self.settings.idle_interval)
