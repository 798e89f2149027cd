"""Source webhooks (JoinQuant, QuantDinger, TradingView: quantlink.sources): authenticate the strategy,
let its source turn the request into signals, dedup + record, fan out to terminals."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from quantlink import positions, relay
from quantlink.dal.connections import PushConnections
from quantlink.http import Request, Route, bearer_token, check_size, dispatch, json_response
from quantlink.ids import new_signal_id
from quantlink.observability import Metric, MetricUnit, capture_lambda_handler, logger, metrics
from quantlink.runtime import Runtime
from quantlink.settings import WebhookSettings
from quantlink.sources import SOURCES, Source, check_source, joinquant
from quantlink.timeutil import epoch_ms, now
from quantlink.views.relay import SignalAccepted, SignalDuplicate, WebhookIgnored


@cache
def runtime() -> Runtime[WebhookSettings]:
    return Runtime.load(WebhookSettings, os.environ)


@cache
def push() -> PushConnections | None:
    endpoint = runtime().settings.push_endpoint
    return PushConnections(endpoint) if endpoint else None


def receive_signal(request: Request, source: Source) -> dict[str, Any]:
    env = runtime()
    received_at = now()
    max_bytes = env.settings.max_body_bytes
    check_size(request.body, max_bytes=max_bytes)
    strategy_id = request.path_params.get("strategyId", "")
    subscriptions = relay.prefetch_subscriptions(env.store, strategy_id)  # read alongside the token check
    strategy = relay.authenticate_strategy(env.store, strategy_id, source.token(request))
    check_source(strategy, source)
    parsed = source.parse(request, strategy, max_bytes, received_at)
    if not parsed.signals:
        # Recorded in the log and the metrics; answered 200 so the sender neither retries nor alarms.
        logger.info(
            "ignored a webhook event",
            extra={"source": source.name, "event": parsed.ignored, "strategy_id": strategy.strategy_id},
        )
        metrics.add_metric(name=Metric.IGNORED_EVENTS, unit=MetricUnit.Count, value=1)
        return json_response(200, WebhookIgnored(event=parsed.ignored or ""))
    # Each signal in order (every source sends one order a call today); the answer is the last one's.
    answer: dict[str, Any] = {}
    for incoming in parsed.signals:
        result = relay.receive_signal(
            env.store,
            env.queues,
            strategy,
            incoming,
            signal_id=new_signal_id(epoch_ms(received_at)),
            dedup_ttl_seconds=env.settings.dedup_ttl_seconds,
            lease_seconds=env.settings.fanout_lease_seconds,
            received_at=received_at,
            push=push(),
            subscriptions=subscriptions,
            rate_limit=env.settings.rate_limit(),
        )
        if result.duplicate:
            answer = json_response(200, SignalDuplicate(signal_id=result.signal_id))
        else:
            held = result.held or None
            answer = json_response(
                202, SignalAccepted(signal_id=result.signal_id, deliveries=result.deliveries or 0, held=held)
            )
    return answer


def receive_positions(request: Request) -> dict[str, Any]:
    env = runtime()
    check_size(request.body, max_bytes=env.settings.max_body_bytes)
    strategy = relay.authenticate_strategy(
        env.store, request.path_params.get("strategyId", ""), bearer_token(request.headers)
    )
    check_source(strategy, joinquant.SOURCE)
    snapshot = joinquant.parse_positions(request.headers, request.body, max_bytes=env.settings.max_body_bytes)
    return json_response(202, positions.record_leader_positions(env.store, strategy, snapshot, at=now()))


def _route(source: Source) -> Route:
    return lambda request: receive_signal(request, source)


ROUTES: dict[tuple[str, str], Route] = {
    **{("POST", source.resource): _route(source) for source in SOURCES.values()},
    ("POST", "/api/webhooks/joinquant/{strategyId}/positions"): receive_positions,
}


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dispatch(ROUTES, event)
