"""Terminal pull: authenticate, claim or check the device, long-poll the terminal's own queue."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from quantlink import relay
from quantlink.http import Request, bearer_token, dispatch, json_response, query_int
from quantlink.observability import capture_lambda_handler, logger, metrics
from quantlink.runtime import Runtime
from quantlink.settings import TerminalSettings
from quantlink.timeutil import now

MAX_WAIT_SECONDS = 20
MAX_SIGNALS = 10


@cache
def runtime() -> Runtime[TerminalSettings]:
    return Runtime.load(TerminalSettings, os.environ)


def pull(request: Request) -> dict[str, Any]:
    env = runtime()
    terminal = relay.authenticate_terminal(env.store, bearer_token(request.headers))
    wait = query_int(request.query, "wait", default=MAX_WAIT_SECONDS, low=0, high=MAX_WAIT_SECONDS)
    max_signals = query_int(request.query, "max", default=MAX_SIGNALS, low=1, high=MAX_SIGNALS)
    relay.claim_device(
        env.store, terminal, request.headers.get("x-device-fingerprint"), at=now(), rate=env.settings.pull_rate()
    )
    signals = relay.pull_signals(env.store, env.queues, terminal, wait_seconds=wait, max_signals=max_signals)
    return json_response(200, {"signals": signals})


ROUTES = {("GET", "/api/terminals/pull"): pull}


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dispatch(ROUTES, event)
