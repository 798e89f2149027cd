"""JoinQuant webhook: authenticate the strategy, validate, dedup + record, fan out to terminals."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from quantlink import relay
from quantlink.dal.queues import TerminalQueues
from quantlink.dal.store import DynamoStore
from quantlink.http import Request, bearer_token, check_size, dispatch, json_response
from quantlink.ids import new_signal_id
from quantlink.observability import capture_lambda_handler, logger, metrics
from quantlink.settings import WebhookSettings
from quantlink.sources import joinquant
from quantlink.timeutil import epoch_ms, now


@cache
def settings() -> WebhookSettings:
    return WebhookSettings.from_environ(os.environ)


@cache
def store() -> DynamoStore:
    return DynamoStore(settings().table_name)


@cache
def queues() -> TerminalQueues:
    return TerminalQueues(settings().queue_name_prefix)


def receive_signal(request: Request) -> dict[str, Any]:
    config = settings()
    received_at = now()
    check_size(request.body, max_bytes=config.max_body_bytes)
    strategy = relay.authenticate_strategy(
        store(), request.path_params.get("strategyId", ""), bearer_token(request.headers)
    )
    incoming = joinquant.parse_signal(request.headers, request.body, max_bytes=config.max_body_bytes)
    result = relay.receive_signal(
        store(),
        queues(),
        strategy,
        incoming,
        signal_id=new_signal_id(epoch_ms(received_at)),
        dedup_ttl_seconds=config.dedup_ttl_seconds,
        lease_seconds=config.fanout_lease_seconds,
        received_at=received_at,
    )
    if result.duplicate:
        return json_response(200, {"signalId": result.signal_id, "duplicate": True})
    return json_response(202, {"signalId": result.signal_id, "duplicate": False, "deliveries": result.deliveries})


def receive_positions(request: Request) -> dict[str, Any]:
    config = settings()
    check_size(request.body, max_bytes=config.max_body_bytes)
    strategy = relay.authenticate_strategy(
        store(), request.path_params.get("strategyId", ""), bearer_token(request.headers)
    )
    snapshot = joinquant.parse_positions(request.headers, request.body, max_bytes=config.max_body_bytes)
    store().put_leader_positions(strategy.strategy_id, snapshot.model_dump(mode="json", by_alias=True), at=now())
    return json_response(202, {"accepted": True, "positions": len(snapshot.positions)})


ROUTES = {
    ("POST", "/api/webhooks/joinquant/{strategyId}"): receive_signal,
    ("POST", "/api/webhooks/joinquant/{strategyId}/positions"): receive_positions,
}


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dispatch(ROUTES, event)
