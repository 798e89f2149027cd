"""Owner API: strategies, terminals and the timeline (Cognito-authorized), plus public config,
health and the OpenAPI document. One Powertools Router per area, errors mapped in one place."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from quantlink.api import public, strategies, terminals
from quantlink.api.deps import OwnerDeps, respond
from quantlink.dal.queues import TerminalQueues
from quantlink.dal.store import DynamoStore
from quantlink.errors import NotFound, QuantLinkError
from quantlink.observability import capture_lambda_handler, logger, metrics
from quantlink.settings import OwnerApiSettings

app = APIGatewayRestResolver()
for area in (public, strategies, terminals):
    app.include_router(area.router)


@cache
def dependencies() -> OwnerDeps:
    settings = OwnerApiSettings.from_environ(os.environ)
    return OwnerDeps(settings, DynamoStore(settings.table_name), TerminalQueues(settings.queue_name_prefix))


def with_origin(response: Response[Any]) -> Response[Any]:
    response.headers["Access-Control-Allow-Origin"] = dependencies().settings.cors_origin
    return response


def allow_origin(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    return with_origin(next_middleware(app))


app.use(middlewares=[allow_origin])


@app.exception_handler(QuantLinkError)
def domain_error(error: QuantLinkError) -> Response[str]:
    if error.status >= 500:
        logger.exception("request failed")
    return with_origin(respond(error.status, error.body()))


@app.not_found
def no_route(_: Exception) -> Response[str]:
    return with_origin(respond(404, NotFound("No such route.").body()))


@app.exception_handler(Exception)
def unexpected(_: Exception) -> Response[str]:
    logger.exception("unhandled error")
    return with_origin(respond(500, QuantLinkError().body()))


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    app.append_context(deps=dependencies())
    return app.resolve(event, context)
