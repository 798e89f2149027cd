"""Sharing: the caller (`/api/me`), invitations and shares (API.md "Sharing")."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from quantlink.api.deps import audit, body, caller, deps, mailer, plan_limits, query, respond
from quantlink.http import query_choice
from quantlink.sharing import invitations, shares, users
from quantlink.sharing.invitations import InvitationConfig
from quantlink.sharing.records import CreateInvitationBody, ShareSide, TokenBody, UpdateShareBody

router = Router()


def _config() -> InvitationConfig:
    return InvitationConfig(web_url=deps(router).settings.web_url, limits=plan_limits(router))


@router.get("/api/me")
def me() -> Response[str]:
    return respond(200, users.me(deps(router).store, caller(router), plan_limits(router)))


@router.post("/api/invitations")
def create_invitation() -> Response[str]:
    request = body(router, CreateInvitationBody)
    store, who = deps(router).store, caller(router)
    return respond(201, invitations.create_invitation(store, mailer(router), audit(router), who, request, _config()))


@router.get("/api/invitations")
def list_invitations() -> Response[str]:
    return respond(200, invitations.list_invitations(deps(router).store, caller(router)))


@router.delete("/api/invitations/<invitationId>")
def revoke_invitation(invitationId: str) -> Response[str]:  # noqa: N803 - the API's path parameter name
    invitations.revoke_invitation(deps(router).store, audit(router), caller(router), invitationId)
    return respond(204)


@router.post("/api/invitations/inspect")
def inspect_invitation() -> Response[str]:
    request = body(router, TokenBody)
    caller(router)
    return respond(200, invitations.inspect_invitation(deps(router).store, request.token))


@router.post("/api/invitations/accept")
def accept_invitation() -> Response[str]:
    request = body(router, TokenBody)
    store, who = deps(router).store, caller(router)
    return respond(200, invitations.accept_invitation(store, audit(router), who, request.token, _config()))


@router.get("/api/shares")
def list_shares() -> Response[str]:
    side = query_choice(query(router), "as", ShareSide) or ShareSide.OWNER
    return respond(200, shares.list_shares(deps(router).store, caller(router), side))


@router.patch("/api/shares/<shareId>")
def update_share(shareId: str) -> Response[str]:  # noqa: N803
    request = body(router, UpdateShareBody)
    return respond(200, shares.update_share(deps(router).store, audit(router), caller(router), shareId, request))


@router.delete("/api/shares/<shareId>")
def delete_share(shareId: str) -> Response[str]:  # noqa: N803
    shares.delete_share(deps(router).store, audit(router), caller(router), shareId)
    return respond(204)
