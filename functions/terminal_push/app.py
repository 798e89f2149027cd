"""Terminal push WebSocket: $connect (authenticate, claim the device, record the connection),
$disconnect (forget it), $default (answer the keepalive ping)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from quantlink import faults, push
from quantlink.http import bearer_token, error_answer, json_response, json_text
from quantlink.observability import capture_lambda_handler, logger, metrics
from quantlink.runtime import Runtime
from quantlink.settings import TerminalSettings
from quantlink.timeutil import now


@cache
def runtime() -> Runtime[TerminalSettings]:
    return Runtime.load(TerminalSettings, os.environ)


def route(event: dict[str, Any]) -> dict[str, Any]:
    context = event.get("requestContext") or {}
    connection_id = str(context.get("connectionId", ""))
    route_key = context.get("routeKey")
    if route_key == "$connect":
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        push.connect_terminal(
            runtime().store,
            bearer_token(headers),
            headers.get("x-device-fingerprint"),
            connection_id,
            at=now(),
        )
        faults.point(faults.PUSH_AFTER_CONNECT)  # recorded, the upgrade refused: a push to it finds it gone
        return {"statusCode": 200}
    if route_key == "$disconnect":
        push.disconnect_terminal(runtime().store, connection_id)
        return {"statusCode": 200}
    answer = push.answer_message(event.get("body"))
    return {"statusCode": 200, "body": json_text(answer)} if answer else {"statusCode": 200}


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return route(event)
    except Exception as error:  # noqa: BLE001 - a refused upgrade carries the API.md error body
        return json_response(*error_answer(error))
