"""The one place for logs, traces and metrics (Powertools). Metric names are what an operator graphs.

The Tracer is built on the first invocation, not at import: constructing it imports the X-Ray SDK
(~160 ms, as much as boto3 itself), which would more than double the hot path's cold import."""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger()
# The namespace is fixed here, not only in the environment: without one, the 100th metric of an
# invocation would raise inside the relay instead of being published.
metrics = Metrics(namespace="QuantLink")


@cache
def tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer()


_H = TypeVar("_H", bound=Callable[..., Any])


def capture_lambda_handler(handler: _H) -> _H:
    """Tracer.capture_lambda_handler, with the Tracer made on the first invocation."""
    traced: Callable[..., Any] | None = None

    @functools.wraps(handler)
    def invoke(event: Any, context: Any) -> Any:
        nonlocal traced
        if traced is None:
            traced = tracer().capture_lambda_handler(handler)
        return traced(event, context)

    return invoke  # type: ignore[return-value]


class Metric:
    SIGNALS = "SignalsReceived"
    DUPLICATES = "DuplicateSignals"
    RATE_LIMITED = "RateLimitedWebhooks"  # refused past the strategy's rate limit, nothing recorded
    IGNORED_EVENTS = "IgnoredWebhookEvents"  # a source's event that carries no order (QuantDinger's test)
    REDRIVES = "SignalsRedriven"
    DELIVERIES = "DeliveriesQueued"
    PULLED = "DeliveriesPulled"
    EXPIRED = "DeliveriesExpired"
    ACKED = "DeliveriesAcked"
    RELAY_LATENCY = "RelayLatency"
    DEVICE_CONFLICTS = "DeviceTakenOver"
    THROTTLED = "TerminalCallsThrottled"  # a pull or ack answered RATE_LIMITED (quantlink.throttling)
    PUSHED = "DeliveriesPushed"
    PUSH_FAILURES = "PushFailures"
    PUSH_CONNECTIONS = "PushConnections"


__all__ = ["Metric", "MetricUnit", "capture_lambda_handler", "logger", "metrics", "tracer"]
