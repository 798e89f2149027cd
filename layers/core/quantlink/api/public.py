"""Public routes: what a client needs before it signs in."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from quantlink.api.deps import api_base, deps

router = Router()


@router.get("/api/health")
def health() -> dict[str, Any]:
    return {"status": "ok"}


@router.get("/api/config")
def config() -> dict[str, Any]:
    settings = deps(router).settings
    return {
        "region": settings.region,
        "cognito": {
            "endpoint": settings.cognito_endpoint,
            "userPoolId": settings.user_pool_id,
            "clientId": settings.user_pool_client_id,
        },
        "apiBase": api_base(router),
    }


@router.get("/api/openapi.json")
def openapi() -> dict[str, Any]:
    from quantlink.api.contract import openapi_document

    return openapi_document(server_url=api_base(router))
