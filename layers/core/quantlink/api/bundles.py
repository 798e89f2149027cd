"""Bundles (`sg_…`): strategies shared together with every member (API.md "Sharing")."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from quantlink.api.deps import audit, body, caller, deps, plan_limits, respond
from quantlink.sharing import bundles
from quantlink.sharing.records import CreateBundleBody

router = Router()


@router.post("/api/bundles")
def create_bundle() -> Response[str]:
    request = body(router, CreateBundleBody)
    return respond(201, bundles.create_bundle(deps(router).store, audit(router), caller(router), request,
                                              plan_limits(router)))  # fmt: skip


@router.get("/api/bundles")
def list_bundles() -> Response[str]:
    return respond(200, bundles.list_bundles(deps(router).store, caller(router)))


@router.get("/api/bundles/<bundleId>")
def get_bundle(bundleId: str) -> Response[str]:  # noqa: N803 - the API's path parameter name
    return respond(200, bundles.get_bundle(deps(router).store, caller(router), bundleId))


@router.delete("/api/bundles/<bundleId>")
def delete_bundle(bundleId: str) -> Response[str]:  # noqa: N803
    bundles.delete_bundle(deps(router).store, audit(router), caller(router), bundleId)
    return respond(204)


@router.put("/api/bundles/<bundleId>/strategies/<strategyId>")
def add_strategy(bundleId: str, strategyId: str) -> Response[str]:  # noqa: N803
    return respond(200, bundles.add_strategy(deps(router).store, audit(router), caller(router), bundleId, strategyId))


@router.delete("/api/bundles/<bundleId>/strategies/<strategyId>")
def remove_strategy(bundleId: str, strategyId: str) -> Response[str]:  # noqa: N803
    bundles.remove_strategy(deps(router).store, audit(router), caller(router), bundleId, strategyId)
    return respond(204)


@router.delete("/api/bundles/<bundleId>/members/<userId>")
def remove_member(bundleId: str, userId: str) -> Response[str]:  # noqa: N803
    bundles.remove_member(deps(router).store, audit(router), caller(router), bundleId, userId)
    return respond(204)
