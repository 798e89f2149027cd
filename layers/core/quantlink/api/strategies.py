"""Strategies: create, list, get, rename / pause, delete, rotate the webhook token, inject code, read the
signal timeline."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from quantlink.api.deps import api_base, audit, body, deps, owner_id, query, respond
from quantlink.errors import ValidationFailed
from quantlink.http import query_choice, query_int
from quantlink.ids import SIGNAL_PREFIX, is_id
from quantlink.models import CreateStrategyBody, InjectBody, SignalState, UpdateStrategyBody
from quantlink.owner import strategies as owner

router = Router()


@router.post("/api/strategies")
def create_strategy() -> Response[str]:
    caller, request = owner_id(router), body(router, CreateStrategyBody)
    created = owner.create_strategy(deps(router).store, caller, request, api_base=api_base(router), audit=audit(router))
    return respond(201, created)


@router.get("/api/strategies")
def list_strategies() -> Response[str]:
    return respond(200, owner.list_strategies(deps(router).store, owner_id(router), api_base=api_base(router)))


@router.get("/api/strategies/<strategyId>")
def get_strategy(strategyId: str) -> Response[str]:  # noqa: N803 - the API's path parameter name
    caller = owner_id(router)
    return respond(200, owner.get_strategy(deps(router).store, caller, strategyId, api_base=api_base(router)))


@router.patch("/api/strategies/<strategyId>")
def update_strategy(strategyId: str) -> Response[str]:  # noqa: N803
    request = body(router, UpdateStrategyBody)
    caller = owner_id(router)
    view = owner.update_strategy(
        deps(router).store, caller, strategyId, request, api_base=api_base(router), audit=audit(router)
    )
    return respond(200, view)


@router.delete("/api/strategies/<strategyId>")
def delete_strategy(strategyId: str) -> Response[str]:  # noqa: N803
    context = deps(router)
    owner.delete_strategy(
        context.store,
        owner_id(router),
        strategyId,
        purge_batch=context.settings.strategy_purge_batch,
        audit=audit(router),
    )
    return respond(204)


@router.post("/api/strategies/<strategyId>/token")
def rotate_token(strategyId: str) -> Response[str]:  # noqa: N803
    return respond(
        200, owner.rotate_webhook_token(deps(router).store, owner_id(router), strategyId, audit=audit(router))
    )


@router.post("/api/strategies/<strategyId>/inject")
def inject(strategyId: str) -> Response[str]:  # noqa: N803
    request = body(router, InjectBody)
    caller = owner_id(router)
    return respond(200, owner.inject_code(deps(router).store, caller, strategyId, request, api_base=api_base(router)))


@router.get("/api/strategies/<strategyId>/signals")
def signals(strategyId: str) -> Response[str]:  # noqa: N803
    limit = query_int(query(router), "limit", default=50, low=1, high=200)
    status = query_choice(query(router), "status", SignalState)
    before = query(router).get("before") or None
    if before is not None and not is_id(before, SIGNAL_PREFIX):
        raise ValidationFailed(
            "Query parameter 'before' must be the nextBefore of a previous page.",
            details=[{"field": "query.before", "message": "not a signal id"}],
        )
    page = owner.signal_timeline(
        deps(router).store, owner_id(router), strategyId, limit=limit, before=before, status=status
    )
    return respond(200, page)
