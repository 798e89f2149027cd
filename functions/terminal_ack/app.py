"""Terminal ack (record the outcome, delete the message) and holdings reports for drift."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from quantlink import relay
from quantlink.dal.queues import TerminalQueues
from quantlink.dal.store import DynamoStore
from quantlink.http import Request, bearer_token, check_size, dispatch, json_response, parse_body
from quantlink.models import AckBody, TerminalPositionsBody
from quantlink.observability import capture_lambda_handler, logger, metrics
from quantlink.settings import TerminalSettings
from quantlink.timeutil import now


@cache
def settings() -> TerminalSettings:
    return TerminalSettings.from_environ(os.environ)


@cache
def store() -> DynamoStore:
    return DynamoStore(settings().table_name)


@cache
def queues() -> TerminalQueues:
    return TerminalQueues(settings().queue_name_prefix)


def ack(request: Request) -> dict[str, Any]:
    check_size(request.body, max_bytes=settings().max_body_bytes)
    terminal = relay.authenticate_terminal(store(), bearer_token(request.headers))
    relay.verify_device(terminal, request.headers.get("x-device-fingerprint"))
    body = parse_body(AckBody, request.body, max_bytes=settings().max_body_bytes)
    return json_response(200, {"results": relay.ack_signals(store(), queues(), terminal, body.acks)})


def report_positions(request: Request) -> dict[str, Any]:
    check_size(request.body, max_bytes=settings().max_body_bytes)
    terminal = relay.authenticate_terminal(store(), bearer_token(request.headers))
    relay.verify_device(terminal, request.headers.get("x-device-fingerprint"))
    body = parse_body(TerminalPositionsBody, request.body, max_bytes=settings().max_body_bytes)
    store().put_terminal_positions(terminal.terminal_id, body.model_dump(mode="json", by_alias=True), at=now())
    return json_response(202, {"accepted": True, "positions": len(body.positions)})


ROUTES = {
    ("POST", "/api/terminals/ack"): ack,
    ("POST", "/api/terminals/positions"): report_positions,
}


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dispatch(ROUTES, event)
