"""The daily drift job (template.yaml: trading days 15:20 China time): every terminal's report, and an
alert past its owner's threshold (email by SES, chat robots)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from quantlink.calendar import trading_calendar
from quantlink.dal.mail import SesMailer
from quantlink.drift.alerts import Alert
from quantlink.drift.service import AlertChannels, run_daily
from quantlink.observability import capture_lambda_handler, logger, metrics
from quantlink.runtime import Runtime
from quantlink.schedules import parse_scheduled_event
from quantlink.settings import DriftSettings


@cache
def runtime() -> Runtime[DriftSettings]:
    return Runtime.load(DriftSettings, os.environ)


@cache
def mailer() -> SesMailer:
    return SesMailer(runtime().settings.mail_from)


def send_email(to: str, alert: Alert) -> None:
    mailer().send_email(to, alert.title, alert.text)


@metrics.log_metrics
@logger.inject_lambda_context
@capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    env = runtime()
    scheduled = parse_scheduled_event(event)
    return run_daily(env.store, trading_calendar(), AlertChannels(mailer=send_email), at=scheduled.clock())
