"""template.yaml is the source of truth: it lints clean, and the code agrees with it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from quantlink.api.contract import OPERATIONS, openapi_document
from quantlink_local.template import REPO_ROOT, TEMPLATE_PATH, Template


def test_cfn_lint_reports_no_errors() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--format", "parseable", str(TEMPLATE_PATH)],
        capture_output=True,
        text=True,
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    # cfn-lint's exit code is a bit set: 2 errors, 4 warnings, 8 informational; 1 means it crashed.
    assert result.returncode & 3 == 0, result.stdout + result.stderr


def test_hot_path_functions_use_snapstart_on_a_runtime_that_supports_it() -> None:
    template = Template.load()
    runtime = template.data["Globals"]["Function"]["Runtime"]
    assert runtime in {"python3.12", "python3.13"}
    for name in ("WebhookFunction", "TerminalPullFunction", "TerminalAckFunction"):
        props = template.resources[name]["Properties"]
        assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        assert props["AutoPublishAlias"]


def test_openapi_operations_are_exactly_the_template_routes() -> None:
    routes = {(r.method, r.path) for r in Template.load().routes()}
    assert {(op.method, op.path) for op in OPERATIONS} == routes


def test_openapi_auth_matches_the_template_authorizer() -> None:
    owner_routes = {(r.method, r.path) for r in Template.load().routes() if r.authorized}
    assert {(op.method, op.path) for op in OPERATIONS if op.auth == "cognito"} == owner_routes


def test_committed_openapi_document_is_current() -> None:
    committed = json.loads((REPO_ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert committed == openapi_document(), "run `make openapi`"


def test_every_function_has_a_handler_module() -> None:
    for spec in Template.load().functions():
        module, _, _ = spec.handler.rpartition(".")
        assert (spec.code_dir / f"{module}.py").is_file(), spec.logical_id


def test_terminal_queue_permissions_are_scoped_to_the_stack_prefix() -> None:
    template = Template.load()
    for name, resource in template.of_type("AWS::Serverless::Function").items():
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if any(a.startswith("sqs:") for a in actions):
                    assert statement["Resource"] != "*", name
                    assert "-terminal-*" in json.dumps(statement["Resource"]), name


def test_the_browser_may_use_every_method_the_api_routes() -> None:
    # A method missing from Cors.AllowMethods fails the SPA's preflight: the route exists but the
    # browser never sends the request (PATCH /api/strategies/{strategyId} did).
    template = Template.load()
    allowed = template.resources["Api"]["Properties"]["Cors"]["AllowMethods"].strip("'").split(",")
    assert {route.method for route in template.routes()} <= set(allowed)
