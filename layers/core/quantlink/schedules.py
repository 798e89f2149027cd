"""What a scheduled invocation carries: EventBridge Scheduler delivers the schedule's `Input` (set in
template.yaml) as the event; `quantlink schedule run NAME --now ISO-TIME` adds the clock to run with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime

from quantlink.models import CamelModel
from quantlink.timeutil import now


class ScheduledEvent(CamelModel):
    schedule: str
    now: AwareDatetime | None = None  # a chosen clock (by hand, in tests); absent: the real one

    def clock(self) -> datetime:
        return self.now or now()


def parse_scheduled_event(event: dict[str, Any]) -> ScheduledEvent:
    return ScheduledEvent.model_validate(event)
