"""Strategies: create, list, get, rotate the webhook token, inject code, read the signal timeline."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from quantlink import owner
from quantlink.api.deps import api_base, body, deps, owner_id, respond
from quantlink.http import query_int
from quantlink.ids import hash_secret, new_webhook_token
from quantlink.models import CreateStrategyBody, InjectBody

router = Router()


@router.post("/api/strategies")
def create_strategy() -> Response[str]:
    created = owner.create_strategy(deps(router).store, owner_id(router), body(router, CreateStrategyBody))
    view = created.record.public(owner.webhook_url(api_base(router), created.record.strategy_id))
    return respond(201, {**view, "webhookToken": created.secret})


@router.get("/api/strategies")
def list_strategies() -> dict[str, Any]:
    base = api_base(router)
    strategies = deps(router).store.list_strategies(owner_id(router))
    return {"items": [s.public(owner.webhook_url(base, s.strategy_id)) for s in strategies]}


@router.get("/api/strategies/<strategyId>")
def get_strategy(strategyId: str) -> dict[str, Any]:  # noqa: N803 - the API's path parameter name
    strategy = owner.owned_strategy(deps(router).store, owner_id(router), strategyId)
    return strategy.public(owner.webhook_url(api_base(router), strategy.strategy_id))


@router.post("/api/strategies/<strategyId>/token")
def rotate_token(strategyId: str) -> dict[str, Any]:  # noqa: N803
    return {"webhookToken": owner.rotate_webhook_token(deps(router).store, owner_id(router), strategyId)}


@router.post("/api/strategies/<strategyId>/inject")
def inject(strategyId: str) -> dict[str, Any]:  # noqa: N803
    # libcst is imported on first use: only this route needs it.
    from quantlink import injection

    request = body(router, InjectBody)
    store, caller = deps(router).store, owner_id(router)
    owner.owned_strategy(store, caller, strategyId)
    warnings: list[str] = []
    extra: dict[str, Any] = {}
    if request.rotate_token:
        token = new_webhook_token()
        extra["webhookToken"] = token
        warnings.append("The webhook token was rotated: code injected earlier stops working until re-injected.")
    else:
        token = injection.TOKEN_PLACEHOLDER
        warnings.append(
            f"Replace {injection.TOKEN_PLACEHOLDER} in the code with this strategy's webhook token "
            "(or inject again with rotateToken: true to embed a new one)."
        )
    result = injection.inject(
        request.code,
        webhook_url=owner.webhook_url(api_base(router), strategyId),
        token=token,
        send_in_backtest=request.send_in_backtest,
    )
    if request.rotate_token:
        store.set_webhook_token_hash(strategyId, caller, hash_secret(token))
    return {"code": result.code, "injected": result.injected, "warnings": [*result.warnings, *warnings], **extra}


@router.get("/api/strategies/<strategyId>/signals")
def signals(strategyId: str) -> dict[str, Any]:  # noqa: N803
    query = router.current_event.query_string_parameters or {}
    limit = query_int(query, "limit", default=50, low=1, high=200)
    before = query.get("before") or None
    return owner.signal_timeline(deps(router).store, owner_id(router), strategyId, limit=limit, before=before)
