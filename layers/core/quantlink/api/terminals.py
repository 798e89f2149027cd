"""Terminals: register, list, get, delete, subscribe / unsubscribe, release the bound device."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from quantlink import owner
from quantlink.api.deps import body, deps, optional_body, owner_id, respond
from quantlink.models import CreateTerminalBody, SubscribeBody

router = Router()


@router.post("/api/terminals")
def register_terminal() -> Response[str]:
    context = deps(router)
    created = owner.register_terminal(
        context.store,
        context.queues,
        owner_id(router),
        body(router, CreateTerminalBody),
        visibility_timeout_seconds=context.settings.visibility_timeout_seconds,
    )
    return respond(201, {**created.record.public(), "authToken": created.secret})


@router.get("/api/terminals")
def list_terminals() -> dict[str, Any]:
    store = deps(router).store
    return {"items": [owner.terminal_view(store, t) for t in store.list_terminals(owner_id(router))]}


@router.get("/api/terminals/<terminalId>")
def get_terminal(terminalId: str) -> dict[str, Any]:  # noqa: N803 - the API's path parameter name
    store = deps(router).store
    return owner.terminal_view(store, owner.owned_terminal(store, owner_id(router), terminalId))


@router.delete("/api/terminals/<terminalId>")
def delete_terminal(terminalId: str) -> Response[str]:  # noqa: N803
    owner.delete_terminal(deps(router).store, deps(router).queues, owner_id(router), terminalId)
    return respond(204)


@router.put("/api/terminals/<terminalId>/subscriptions/<strategyId>")
def subscribe(terminalId: str, strategyId: str) -> dict[str, Any]:  # noqa: N803
    request = optional_body(router, SubscribeBody)
    subscription = owner.subscribe(deps(router).store, owner_id(router), terminalId, strategyId, request.sizing)
    return {"terminalId": terminalId, "strategyId": strategyId, "sizing": subscription.sizing}


@router.delete("/api/terminals/<terminalId>/subscriptions/<strategyId>")
def unsubscribe(terminalId: str, strategyId: str) -> Response[str]:  # noqa: N803
    owner.unsubscribe(deps(router).store, owner_id(router), terminalId, strategyId)
    return respond(204)


@router.post("/api/terminals/<terminalId>/token")
def rotate_token(terminalId: str) -> dict[str, Any]:  # noqa: N803
    return {"authToken": owner.rotate_terminal_token(deps(router).store, owner_id(router), terminalId)}


@router.post("/api/terminals/<terminalId>/release")
def release(terminalId: str) -> dict[str, Any]:  # noqa: N803
    return owner.release_device(deps(router).store, owner_id(router), terminalId).public()
