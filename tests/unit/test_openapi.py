"""docs/openapi.json is a valid OpenAPI 3.1 document whose references all resolve, and every operation
lists every status it can answer, each with a schema (tests/integration/test_wire_shapes.py checks the
real answers against these schemas)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from quantlink.api.contract import OPERATIONS, Operation, openapi_document

DOCUMENT = openapi_document()


def references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} is not local to the document"
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def test_the_document_is_valid_openapi_3_1() -> None:
    OpenAPIV31SpecValidator(DOCUMENT).validate()


def test_every_reference_resolves() -> None:
    refs = set(references(DOCUMENT))
    assert "#/components/schemas/PulledSignal" in refs
    for ref in refs:
        resolve(DOCUMENT, ref)


def test_a_reference_to_nowhere_is_caught() -> None:
    broken = {**DOCUMENT, "paths": {"/x": {"get": {"responses": {"200": {"$ref": "#/$defs/Side"}}}}}}
    with pytest.raises(AssertionError):
        for ref in references(broken):
            resolve(broken, ref)


def operation(op: Operation) -> dict[str, Any]:
    found: dict[str, Any] = DOCUMENT["paths"][op.path][op.method.lower()]
    return found


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_every_operation_lists_each_status_it_can_answer_with_its_body(op: Operation) -> None:
    responses = operation(op)["responses"]
    expected = {str(op.success), "429"}
    if op.auth is not None:
        expected.add("401")  # a missing or wrong token
    if op.request is not None:
        expected |= {"400", "413"}  # an invalid or oversized body
    if not op.stateless:
        expected.add("503")  # AWS throttling, retry-safe
    assert expected <= set(responses)
    for status, response in responses.items():
        content = response.get("content", {}).get("application/json", {}).get("schema")
        if status == "204":
            assert content is None
        elif status.startswith("2"):
            assert content is not None, status
        else:
            assert content == {"$ref": "#/components/schemas/ErrorBody"}, status


def test_owner_routes_on_a_record_answer_404_and_terminal_routes_409() -> None:
    for op in OPERATIONS:
        responses = operation(op)["responses"]
        if op.auth == "cognito" and "{" in op.path:
            assert "404" in responses, op.path
        if op.auth == "terminalToken":
            assert "409" in responses, op.path  # DEVICE_TAKEN_OVER


def test_the_duplicate_webhook_answer_is_described_apart_from_the_new_one() -> None:
    responses = DOCUMENT["paths"]["/api/webhooks/joinquant/{strategyId}"]["post"]["responses"]
    duplicate = resolve(DOCUMENT, responses["200"]["content"]["application/json"]["schema"]["$ref"])
    accepted = resolve(DOCUMENT, responses["202"]["content"]["application/json"]["schema"]["$ref"])
    assert duplicate["properties"]["duplicate"] == {
        "const": True,
        "default": True,
        "title": "Duplicate",
        "type": "boolean",
    }
    assert "deliveries" in accepted["required"] and "deliveries" not in duplicate["properties"]
