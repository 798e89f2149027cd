"""The sample events and the moto table are the template's, not a second hand-kept copy."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from quantlink_local.template import REPO_ROOT, Template

if TYPE_CHECKING:
    from conftest import Stack

EVENTS_DIR = REPO_ROOT / "events"


def all_samples() -> dict[str, dict[str, Any]]:
    return {
        str(path.relative_to(EVENTS_DIR).with_suffix("")): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(EVENTS_DIR.glob("*/*.json"))
    }


def samples() -> dict[str, dict[str, Any]]:
    """The REST proxy events (the WebSocket API's events carry a routeKey instead)."""
    return {name: event for name, event in all_samples().items() if "routeKey" not in event["requestContext"]}


def test_every_websocket_route_has_a_sample_event_for_its_function(template: Template) -> None:
    routes = {r["Properties"]["RouteKey"] for r in template.of_type("AWS::ApiGatewayV2::Route").values()}
    websocket = [event["requestContext"] for event in all_samples().values() if "routeKey" in event["requestContext"]]

    assert {context["routeKey"] for context in websocket} == routes
    assert {context["eventType"] for context in websocket} == {"CONNECT", "MESSAGE", "DISCONNECT"}


def test_every_route_in_the_template_has_a_sample_event_in_its_functions_folder(template: Template) -> None:
    folder_of = {spec.logical_id: spec.code_dir.name for spec in template.functions()}
    covered = {(name.split("/")[0], event["httpMethod"], event["resource"]) for name, event in samples().items()}

    missing = [
        (route.method, route.path)
        for route in template.routes()
        if (folder_of[route.function], route.method, route.path) not in covered
    ]

    assert missing == []


def test_every_sample_is_a_rest_proxy_event_for_a_route_of_its_function(template: Template) -> None:
    folder_of = {spec.logical_id: spec.code_dir.name for spec in template.functions()}
    routes = {(folder_of[r.function], r.method, r.path): r for r in template.routes()}

    for name, event in samples().items():
        route = routes.get((name.split("/")[0], event["httpMethod"], event["resource"]))
        assert route is not None, f"events/{name}.json matches no route of its function"
        context = event["requestContext"]
        assert context["resourcePath"] == event["resource"] and context["httpMethod"] == event["httpMethod"]
        assert context["path"] == f"/{context['stage']}{event['path']}"
        assert route.pattern.match(event["path"]), name
        # Authorized routes carry the Cognito claims API Gateway adds; public ones carry none.
        claims = (context.get("authorizer") or {}).get("claims")
        assert bool(claims and claims.get("sub")) == route.authorized, name
        assert set(event["multiValueHeaders"]) == set(event["headers"]), name


def test_the_table_has_the_keys_indexes_and_ttl_of_the_template(mock_aws: Stack, template: Template) -> None:
    declared = template.resources["Table"]["Properties"]

    described = mock_aws.dynamodb.describe_table(TableName=mock_aws.table_name)["Table"]
    ttl = mock_aws.dynamodb.describe_time_to_live(TableName=mock_aws.table_name)["TimeToLiveDescription"]

    assert described["KeySchema"] == declared["KeySchema"]
    assert [(i["IndexName"], i["KeySchema"]) for i in described["GlobalSecondaryIndexes"]] == [
        (i["IndexName"], i["KeySchema"]) for i in declared["GlobalSecondaryIndexes"]
    ]
    assert ttl == {"AttributeName": "ttl", "TimeToLiveStatus": "ENABLED"}
