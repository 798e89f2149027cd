"""Terminals: register, list, get, delete, subscribe / unsubscribe, rotate the token, release the device."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from quantlink.api.deps import audit, body, deps, optional_body, owner_id, respond
from quantlink.models import CreateTerminalBody, SubscribeBody
from quantlink.owner import subscriptions, terminals

router = Router()


@router.post("/api/terminals")
def register_terminal() -> Response[str]:
    context, caller, request = deps(router), owner_id(router), body(router, CreateTerminalBody)
    visibility = context.settings.visibility_timeout_seconds
    created = terminals.register_terminal(
        context.store, context.queues, caller, request, visibility_timeout_seconds=visibility, audit=audit(router)
    )
    return respond(201, created)


@router.get("/api/terminals")
def list_terminals() -> Response[str]:
    return respond(200, terminals.list_terminals(deps(router).store, owner_id(router)))


@router.get("/api/terminals/<terminalId>")
def get_terminal(terminalId: str) -> Response[str]:  # noqa: N803 - the API's path parameter name
    return respond(200, terminals.get_terminal(deps(router).store, owner_id(router), terminalId))


@router.delete("/api/terminals/<terminalId>")
def delete_terminal(terminalId: str) -> Response[str]:  # noqa: N803
    terminals.delete_terminal(
        deps(router).store, deps(router).queues, owner_id(router), terminalId, audit=audit(router)
    )
    return respond(204)


@router.put("/api/terminals/<terminalId>/subscriptions/<strategyId>")
def subscribe(terminalId: str, strategyId: str) -> Response[str]:  # noqa: N803
    request = optional_body(router, SubscribeBody)
    view = subscriptions.subscribe(deps(router).store, owner_id(router), terminalId, strategyId, request.sizing)
    return respond(200, view)


@router.delete("/api/terminals/<terminalId>/subscriptions/<strategyId>")
def unsubscribe(terminalId: str, strategyId: str) -> Response[str]:  # noqa: N803
    subscriptions.unsubscribe(deps(router).store, owner_id(router), terminalId, strategyId)
    return respond(204)


@router.post("/api/terminals/<terminalId>/token")
def rotate_token(terminalId: str) -> Response[str]:  # noqa: N803
    rotated = terminals.rotate_terminal_token(deps(router).store, owner_id(router), terminalId, audit=audit(router))
    return respond(200, rotated)


@router.post("/api/terminals/<terminalId>/release")
def release(terminalId: str) -> Response[str]:  # noqa: N803
    released = terminals.release_device(deps(router).store, owner_id(router), terminalId, audit=audit(router))
    return respond(200, released)
