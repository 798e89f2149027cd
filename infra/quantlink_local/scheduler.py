"""The local stack's EventBridge Scheduler: the schedules are the `ScheduleV2` events of template.yaml's
functions (no second list), each fired on its own expression and timezone by one timer thread, invoking
its function with the schedule's `Input` as the event, as the real scheduler does.

`QUANTLINK_SCHEDULE_PERIOD_SECONDS` (a test setting) makes every rate() schedule fire that often
instead. `quantlink schedule run NAME [--now ISO-TIME]` runs one schedule by hand against the running
local stack (its state file says where the moto server is), with a chosen clock.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from quantlink_local.template import FunctionSpec, Template

log = logging.getLogger(__name__)

PERIOD_OVERRIDE_VARIABLE = "QUANTLINK_SCHEDULE_PERIOD_SECONDS"
_RATE = re.compile(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((.+)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTHS = {
    m: i
    for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)
}
_CRON_HORIZON_MINUTES = 366 * 24 * 60


@dataclass(frozen=True)
class Schedule:
    name: str  # the event's key in the template: what `quantlink schedule run` takes
    function: str  # the function's logical id
    expression: str
    timezone: ZoneInfo
    input: dict[str, Any]

    def next_fire(self, after: datetime, *, period_override: float | None = None) -> datetime:
        """The first firing strictly after `after` (aware)."""
        rate = _RATE.fullmatch(self.expression)
        if rate:
            seconds = period_override or int(rate.group(1)) * _UNIT_SECONDS[rate.group(2).rstrip("s")]
            return after + timedelta(seconds=seconds)
        cron = _CRON.fullmatch(self.expression)
        if cron is None:
            raise ValueError(f"schedule {self.name}: unsupported expression {self.expression!r}")
        return _next_cron(cron.group(1), after, self.timezone)


def schedules(template: Template) -> list[Schedule]:
    found = []
    for logical_id, resource in template.of_type("AWS::Serverless::Function").items():
        for name, event in resource["Properties"].get("Events", {}).items():
            if event["Type"] != "ScheduleV2":
                continue
            props = event["Properties"]
            found.append(
                Schedule(
                    name=name,
                    function=logical_id,
                    expression=props["ScheduleExpression"],
                    timezone=ZoneInfo(props.get("ScheduleExpressionTimezone", "UTC")),
                    input=json.loads(props.get("Input", "{}")),
                )
            )
    return found


def find_schedule(template: Template, name: str) -> Schedule:
    by_name = {s.name.lower(): s for s in schedules(template)}
    if name.lower() not in by_name:
        raise KeyError(f"no schedule {name!r}; the template has: {', '.join(s.name for s in schedules(template))}")
    return by_name[name.lower()]


def scheduled_event(schedule: Schedule, now: datetime | None = None) -> dict[str, Any]:
    event = dict(schedule.input)
    if now is not None:
        event["now"] = now.isoformat()
    return event


# ---- cron (EventBridge's six fields: minutes hours day-of-month month day-of-week year) -------------


def _field_values(text: str, low: int, high: int, names: Mapping[str, int]) -> set[int] | None:
    """The values a field allows; None for `*` / `?` (anything)."""
    if text in ("*", "?"):
        return None
    allowed: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = names.get(a.upper()) or int(a), names.get(b.upper()) or int(b)
        else:
            start = names.get(part.upper()) or int(part)
            end = high if step > 1 else start
        allowed.update(range(start, end + 1, step))
    return allowed


def _next_cron(spec: str, after: datetime, zone: ZoneInfo) -> datetime:
    fields = spec.split()
    if len(fields) != 6:
        raise ValueError(f"cron({spec}) needs six fields")
    minutes, hours, dom, months, dow, years = (
        _field_values(fields[0], 0, 59, {}),
        _field_values(fields[1], 0, 23, {}),
        _field_values(fields[2], 1, 31, {}),
        _field_values(fields[3], 1, 12, _MONTHS),
        _field_values(fields[4], 1, 7, _DAYS),
        _field_values(fields[5], 1970, 2199, {}),
    )
    moment = after.astimezone(zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(_CRON_HORIZON_MINUTES):
        weekday = moment.isoweekday() % 7 + 1  # EventBridge: 1 = Sunday
        if (
            (minutes is None or moment.minute in minutes)
            and (hours is None or moment.hour in hours)
            and (dom is None or moment.day in dom)
            and (months is None or moment.month in months)
            and (dow is None or weekday in dow)
            and (years is None or moment.year in years)
        ):
            return moment
        moment += timedelta(minutes=1)
    raise ValueError(f"cron({spec}) never fires within a year")


# ---- the timer -------------------------------------------------------------------------------------


Invoke = Callable[[FunctionSpec, dict[str, Any]], Any]


class Scheduler:
    """One thread; each firing runs on its own thread, and a schedule still running is not started
    again (a late firing is skipped, as a Lambda at its concurrency limit would be)."""

    def __init__(
        self,
        template: Template,
        invoke: Invoke,
        *,
        period_override: float | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._specs = {spec.logical_id: spec for spec in template.functions()}
        self._schedules = schedules(template)
        self._invoke = invoke
        self._period_override = period_override
        self._clock = clock or (lambda: datetime.now(ZoneInfo("UTC")))
        self._stop = threading.Event()
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.fired: dict[str, int] = {s.name: 0 for s in self._schedules}

    def start(self) -> Scheduler:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        due = {s.name: s.next_fire(self._clock(), period_override=self._period_override) for s in self._schedules}
        by_name = {s.name: s for s in self._schedules}
        while not self._stop.is_set() and due:
            name = min(due, key=lambda n: due[n])
            wait = (due[name] - self._clock()).total_seconds()
            if wait > 0 and self._stop.wait(min(wait, 60)):
                return
            if self._clock() < due[name]:
                continue  # woke early (the 60 s cap): re-check
            schedule = by_name[name]
            due[name] = schedule.next_fire(due[name], period_override=self._period_override)
            self._fire(schedule)

    def _fire(self, schedule: Schedule) -> None:
        with self._lock:
            if schedule.name in self._running:
                log.warning("schedule %s is still running; this firing is skipped", schedule.name)
                return
            self._running.add(schedule.name)
            self.fired[schedule.name] += 1

        def run() -> None:
            try:
                self._invoke(self._specs[schedule.function], scheduled_event(schedule))
            except Exception:
                log.exception("schedule %s failed", schedule.name)
            finally:
                with self._lock:
                    self._running.discard(schedule.name)

        threading.Thread(target=run, name=f"schedule-{schedule.name}", daemon=True).start()


def start_local_scheduler(template: Template, environ: Mapping[str, str]) -> Scheduler:
    """The running stack's timer: each scheduled function gets its own execution environments."""
    from quantlink_local.gateway import FunctionPool

    pools = {s.function: FunctionPool(spec) for spec in template.functions() for s in schedules(template)
             if s.function == spec.logical_id}  # fmt: skip
    override = environ.get(PERIOD_OVERRIDE_VARIABLE)
    return Scheduler(
        template,
        lambda spec, event: pools[spec.logical_id].invoke(event),
        period_override=float(override) if override else None,
    ).start()


# ---- by hand ---------------------------------------------------------------------------------------


def function_environment(template: Template, spec: FunctionSpec) -> dict[str, str]:
    """The function's environment as the local stack resolves it (table names follow from the template)."""
    from quantlink_local.stack import REGION, STACK_NAME
    from quantlink_local.template import Resolver

    physical: dict[str, str] = {}

    def no_attributes(logical_id: str, name: str) -> str:
        raise KeyError(f"Fn::GetAtt {logical_id}.{name} is not available outside the running stack")

    resolver = Resolver(template, region=REGION, stack_name=STACK_NAME, physical_ids=physical, attributes=no_attributes)
    for logical_id, table in template.of_type("AWS::DynamoDB::Table").items():
        physical[logical_id] = str(resolver.resolve(table["Properties"]["TableName"]))
    return {name: str(resolver.resolve(value)) for name, value in spec.environment.items()}


def run_by_hand(name: str, *, now: datetime | None, moto_endpoint: str, region: str) -> Any:
    """Invoke one schedule's function in this process against the running local stack's moto server."""
    import os

    from quantlink_local.gateway import FunctionPool

    template = Template.load()
    schedule = find_schedule(template, name)
    spec = next(s for s in template.functions() if s.logical_id == schedule.function)
    os.environ.update(function_environment(template, spec))
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": moto_endpoint,
            "AWS_DEFAULT_REGION": region,
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",  # stdout carries the result; the function's info logs are noise here
        }
    )
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    return FunctionPool(spec).invoke(scheduled_event(schedule, now))
