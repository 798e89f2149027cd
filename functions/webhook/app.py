"""JoinQuant webhook: authenticate the strategy, validate, dedup + record, fan out to terminals."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from quantlink import positions, relay
from quantlink.dal.connections import PushConnections
from quantlink.http import Request, bearer_token, check_size, dispatch, json_response
from quantlink.ids import new_signal_id
from quantlink.observability import capture_lambda_handler, logger, metrics
from quantlink.runtime import Runtime
from quantlink.settings import WebhookSettings
from quantlink.sources import joinquant
from quantlink.timeutil import epoch_ms, now
from quantlink.views.relay import SignalAccepted, SignalDuplicate


@cache
def runtime() -> Runtime[WebhookSettings]:
    return Runtime.load(WebhookSettings, os.environ)


@cache
def push() -> PushConnections | None:
    endpoint = runtime().settings.push_endpoint
    return PushConnections(endpoint) if endpoint else None


def receive_signal(request: Request) -> dict[str, Any]:
    env = runtime()
    received_at = now()
    check_size(request.body, max_bytes=env.settings.max_body_bytes)
    strategy = relay.authenticate_strategy(
        env.store, request.path_params.get("strategyId", ""), bearer_token(request.headers)
    )
    incoming = joinquant.parse_signal(request.headers, request.body, max_bytes=env.settings.max_body_bytes)
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
    )
    if result.duplicate:
        return json_response(200, SignalDuplicate(signal_id=result.signal_id))
    accepted = SignalAccepted(signal_id=result.signal_id, deliveries=result.deliveries or 0, held=result.held or None)
    return json_response(202, accepted)


def receive_positions(request: Request) -> dict[str, Any]:
    env = runtime()
    check_size(request.body, max_bytes=env.settings.max_body_bytes)
    strategy = relay.authenticate_strategy(
        env.store, request.path_params.get("strategyId", ""), bearer_token(request.headers)
    )
    snapshot = joinquant.parse_positions(request.headers, request.body, max_bytes=env.settings.max_body_bytes)
    return json_response(202, positions.record_leader_positions(env.store, strategy, snapshot, at=now()))


ROUTES = {
    ("POST", "/api/webhooks/joinquant/{strategyId}"): receive_signal,
    ("POST", "/api/webhooks/joinquant/{strategyId}/positions"): receive_positions,
}


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dispatch(ROUTES, event)
