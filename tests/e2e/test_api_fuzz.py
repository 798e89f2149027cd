"""Schemathesis over the whole API as its own OpenAPI document describes it ([11/11] item 2), on the real
local stack: every operation, with real credentials (an owner's IdToken, a strategy's webhook token, a
terminal's token and its bound device) and real ids, so generated bodies reach validation and the stores
instead of stopping at 401/404.

Asserted for every answer: never a 5xx; the status is one the document lists for that operation; the
body matches the document's schema; every 4xx carries API.md's error body (`{code, message, details?}`).
The example count is bounded (``QUANTLINK_FUZZ_EXAMPLES``, default 12 per operation) so the run fits CI;
raise it locally to dig deeper."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from quantlink_local.client import joinquant_signal, post_webhook
from quantlink_local.process import RunningStack

EXAMPLES = int(os.environ.get("QUANTLINK_FUZZ_EXAMPLES", "12"))

# Operations that would destroy the fixture's own credentials or ids (a rotated token, a deleted
# strategy, a released device) keep the generated ids: they are fuzzed against ids that are not the
# fixture's, which exercises their 404 / validation paths without invalidating the other operations.
DESTRUCTIVE = {
    ("DELETE", "/api/strategies/{strategyId}"),
    ("POST", "/api/strategies/{strategyId}/token"),
    ("DELETE", "/api/terminals/{terminalId}"),
    ("POST", "/api/terminals/{terminalId}/token"),
    ("POST", "/api/terminals/{terminalId}/release"),
    ("DELETE", "/api/terminals/{terminalId}/subscriptions/{strategyId}"),
}


@dataclass
class Credentials:
    id_token: str
    strategy_id: str
    webhook_token: str
    terminal_id: str
    terminal_token: str
    fingerprint: str
    api_base: str


@pytest.fixture(scope="module")
def credentials(local_stack: RunningStack) -> Iterator[Credentials]:
    owner = local_stack.new_owner()
    strategy = owner.create_strategy("fuzzed")
    terminal = owner.create_terminal("fuzzed terminal")
    owner.subscribe(terminal["terminalId"], strategy["strategyId"])
    fingerprint = "fp-" + secrets.token_hex(8)
    # A queued signal, so pull and ack have something real under the generated inputs.
    post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(1)).raise_for_status()
    owner.pull(terminal["authToken"], fingerprint)
    id_token = owner.session.headers["Authorization"].removeprefix("Bearer ")
    yield Credentials(
        id_token=str(id_token),
        strategy_id=strategy["strategyId"],
        webhook_token=strategy["webhookToken"],
        terminal_id=terminal["terminalId"],
        terminal_token=terminal["authToken"],
        fingerprint=fingerprint,
        api_base=local_stack.api_base,
    )


@schemathesis.check
def api_error_body(ctx: Any, response: Any, case: Any) -> bool | None:
    """API.md "Errors": every error answer is `{"code", "message", "details"?}`, nothing else."""
    if not 400 <= response.status_code < 500:
        return None
    error = response.json()
    assert isinstance(error, dict), f"not the API.md error body: {response.text[:300]}"
    assert isinstance(error.get("code"), str) and error["code"].isupper(), f"error code: {error!r}"
    assert isinstance(error.get("message"), str) and error["message"], f"error message: {error!r}"
    assert set(error) <= {"code", "message", "details"}, f"unexpected error fields: {sorted(error)}"
    assert "Traceback" not in response.text
    return None


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          api_error_body]  # fmt: skip

# The committed document (tests/unit/test_openapi.py keeps it equal to what /api/openapi.json serves),
# loaded at collection so every operation is its own test.
schema = schemathesis.openapi.from_path(str(Path(__file__).parents[2] / "docs" / "openapi.json"))


def _authorize(case: Any, creds: Credentials) -> dict[str, str]:
    path = case.operation.path
    method = case.operation.method.upper()
    security = case.operation.definition.raw.get("security") or []
    schemes = {name for requirement in security for name in requirement}
    headers: dict[str, str] = {}
    if "cognito" in schemes:
        headers["Authorization"] = f"Bearer {creds.id_token}"
    elif "webhookToken" in schemes:
        headers["Authorization"] = f"Bearer {creds.webhook_token}"
    elif "terminalToken" in schemes:
        headers["Authorization"] = f"Bearer {creds.terminal_token}"
        headers["X-Device-Fingerprint"] = creds.fingerprint
    if (method, path) not in DESTRUCTIVE and case.path_parameters:
        real = {"strategyId": creds.strategy_id, "terminalId": creds.terminal_id}
        for name in case.path_parameters:
            if name in real:
                case.path_parameters[name] = real[name]
    if case.query and "wait" in case.query:
        # A valid long-poll wait would hold the fuzzer for up to 20 s per example: an empty poll is
        # enough for its validation paths; invalid waits are kept as generated.
        try:
            if float(case.query["wait"]) > 0:
                case.query["wait"] = 0
        except (TypeError, ValueError):
            pass
    return headers


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_as_documented(case: Any, credentials: Credentials) -> None:
    headers = _authorize(case, credentials)
    response = case.call(base_url=credentials.api_base, headers=headers, timeout=30)
    case.validate_response(response, checks=CHECKS, headers=headers)
