"""Public routes: what a client needs before it signs in."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from quantlink.api.deps import api_base, deps, respond
from quantlink.views.owner import CognitoConfig, Health, PublicConfig, PushConfig

router = Router()


@router.get("/api/health")
def health() -> Response[str]:
    return respond(200, Health())


@router.get("/api/config")
def config() -> Response[str]:
    settings = deps(router).settings
    cognito = CognitoConfig(
        endpoint=settings.cognito_endpoint, user_pool_id=settings.user_pool_id, client_id=settings.user_pool_client_id
    )
    push = PushConfig(url=settings.push_url) if settings.push_url else None
    return respond(200, PublicConfig(region=settings.region, cognito=cognito, api_base=api_base(router), push=push))


@router.get("/api/openapi.json")
def openapi() -> Response[str]:
    from quantlink.api.contract import openapi_document

    return respond(200, openapi_document(server_url=api_base(router)))
