"""The sweeper, every few minutes (template.yaml's schedule): re-drive stuck signals, expire unpulled
deliveries, and whatever else quantlink.sweep.STEPS lists."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from quantlink.dal.mail import SesMailer
from quantlink.observability import capture_lambda_handler, logger, metrics
from quantlink.runtime import Runtime
from quantlink.schedules import parse_scheduled_event
from quantlink.settings import SweepSettings
from quantlink.sweep import SweepContext, run_sweep


@cache
def runtime() -> Runtime[SweepSettings]:
    return Runtime.load(SweepSettings, os.environ)


@cache
def mailer() -> SesMailer:
    return SesMailer(runtime().settings.mail_from)


@metrics.log_metrics
@logger.inject_lambda_context
@capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    env = runtime()
    scheduled = parse_scheduled_event(event)
    sweep = SweepContext(
        store=env.store,
        queues=env.queues,
        mailer=mailer(),
        stuck_after_seconds=env.settings.stuck_after_seconds,
        lease_seconds=env.settings.fanout_lease_seconds,
        batch=env.settings.sweep_batch,
    )
    return run_sweep(sweep, scheduled.clock()).wire()
