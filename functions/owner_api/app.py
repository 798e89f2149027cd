"""Owner API: strategies, terminals, the timeline, sharing and the audit log (Cognito-authorized), plus public config,
health and the OpenAPI document. One Powertools Router per area, errors mapped in one place."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from quantlink.api import admin, bundles, drift, groups, public, sharing, strategies, terminals
from quantlink.api.deps import OwnerRuntime, error_response
from quantlink.errors import NotFound
from quantlink.observability import capture_lambda_handler, logger, metrics
from quantlink.runtime import Runtime
from quantlink.settings import OwnerApiSettings

app = APIGatewayRestResolver()
for area in (public, strategies, terminals, drift, sharing, bundles, groups, admin):
    app.include_router(area.router)


@cache
def runtime() -> OwnerRuntime:
    return Runtime.load(OwnerApiSettings, os.environ)


def with_origin(response: Response[Any]) -> Response[Any]:
    response.headers["Access-Control-Allow-Origin"] = runtime().settings.cors_origin
    return response


def allow_origin(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    return with_origin(next_middleware(app))


app.use(middlewares=[allow_origin])


@app.not_found
def no_route(_: Exception) -> Response[str]:
    return with_origin(error_response(NotFound("No such route.")))


@app.exception_handler(Exception)
def failed(error: Exception) -> Response[str]:
    return with_origin(error_response(error))


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    app.append_context(deps=runtime())
    return app.resolve(event, context)
