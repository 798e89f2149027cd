"""Terminal ack (record the outcome, delete the message) and holdings reports for drift."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from quantlink import positions, relay
from quantlink.http import Request, bearer_token, check_size, dispatch, json_response, parse_body
from quantlink.models import AckBody, TerminalPositionsBody
from quantlink.observability import capture_lambda_handler, logger, metrics
from quantlink.runtime import Runtime
from quantlink.settings import TerminalSettings
from quantlink.timeutil import now


@cache
def runtime() -> Runtime[TerminalSettings]:
    return Runtime.load(TerminalSettings, os.environ)


def ack(request: Request) -> dict[str, Any]:
    env = runtime()
    check_size(request.body, max_bytes=env.settings.max_body_bytes)
    terminal = relay.authenticate_terminal(env.store, bearer_token(request.headers))
    relay.verify_device(terminal, request.headers.get("x-device-fingerprint"))
    relay.count_call(env.store, terminal, env.settings.ack_rate(), at=now())
    body = parse_body(AckBody, request.body, max_bytes=env.settings.max_body_bytes)
    return json_response(200, {"results": relay.ack_signals(env.store, env.queues, terminal, body.acks)})


def report_positions(request: Request) -> dict[str, Any]:
    env = runtime()
    check_size(request.body, max_bytes=env.settings.max_body_bytes)
    terminal = relay.authenticate_terminal(env.store, bearer_token(request.headers))
    relay.verify_device(terminal, request.headers.get("x-device-fingerprint"))
    relay.count_call(env.store, terminal, env.settings.ack_rate(), at=now())
    body = parse_body(TerminalPositionsBody, request.body, max_bytes=env.settings.max_body_bytes)
    return json_response(202, positions.record_terminal_holdings(env.store, terminal, body, at=now()))


ROUTES = {
    ("POST", "/api/terminals/ack"): ack,
    ("POST", "/api/terminals/positions"): report_positions,
}


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dispatch(ROUTES, event)
