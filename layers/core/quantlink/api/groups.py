"""Groups (`grp_…`): strategies and bundles shared with every member, present and future (API.md
"Sharing")."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from quantlink.api.deps import audit, body, caller, deps, mailer, plan_limits, respond
from quantlink.sharing import groups
from quantlink.sharing.records import CreateGroupBody, GroupMemberBody, GroupShareBody

router = Router()


@router.post("/api/groups")
def create_group() -> Response[str]:
    request = body(router, CreateGroupBody)
    return respond(201, groups.create_group(deps(router).store, audit(router), caller(router), request,
                                            plan_limits(router)))  # fmt: skip


@router.get("/api/groups")
def list_groups() -> Response[str]:
    return respond(200, groups.list_groups(deps(router).store, caller(router)))


@router.get("/api/groups/<groupId>")
def get_group(groupId: str) -> Response[str]:  # noqa: N803 - the API's path parameter name
    return respond(200, groups.get_group(deps(router).store, caller(router), groupId))


@router.delete("/api/groups/<groupId>")
def delete_group(groupId: str) -> Response[str]:  # noqa: N803
    groups.delete_group(deps(router).store, audit(router), caller(router), groupId)
    return respond(204)


@router.put("/api/groups/<groupId>/members")
def add_member(groupId: str) -> Response[str]:  # noqa: N803
    request = body(router, GroupMemberBody)
    view = groups.add_member(deps(router).store, mailer(router), audit(router), caller(router), groupId,
                             request.email, web_url=deps(router).settings.web_url)  # fmt: skip
    return respond(200, view)


@router.delete("/api/groups/<groupId>/members/<userId>")
def remove_member(groupId: str, userId: str) -> Response[str]:  # noqa: N803
    groups.remove_member(deps(router).store, audit(router), caller(router), groupId, userId)
    return respond(204)


@router.post("/api/groups/<groupId>/shares")
def create_group_share(groupId: str) -> Response[str]:  # noqa: N803
    request = body(router, GroupShareBody)
    return respond(201, groups.create_group_share(deps(router).store, audit(router), caller(router), groupId,
                                                  request))  # fmt: skip


@router.delete("/api/groups/<groupId>/shares/<groupShareId>")
def remove_group_share(groupId: str, groupShareId: str) -> Response[str]:  # noqa: N803
    groups.remove_group_share(deps(router).store, audit(router), caller(router), groupId, groupShareId)
    return respond(204)
