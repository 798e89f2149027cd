"""The one place for logs, traces and metrics (Powertools). Metric names are what an operator graphs.

The Tracer is built on first use: constructing it imports the X-Ray SDK (~160 ms, as much as boto3
itself), which the hot-path functions skip; they rely on Lambda's active tracing for their segment."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger()
metrics = Metrics()


@cache
def tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer()


class Metric:
    SIGNALS = "SignalsReceived"
    DUPLICATES = "DuplicateSignals"
    REDRIVES = "SignalsRedriven"
    DELIVERIES = "DeliveriesQueued"
    PULLED = "DeliveriesPulled"
    EXPIRED = "DeliveriesExpired"
    ACKED = "DeliveriesAcked"
    RELAY_LATENCY = "RelayLatency"
    DEVICE_CONFLICTS = "DeviceTakenOver"


__all__ = ["Metric", "MetricUnit", "logger", "metrics", "tracer"]
