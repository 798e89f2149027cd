"""The API Gateway emulator behaves as the template's API would: Cognito authorizer on owner routes,
the template's GatewayResponses for what never reaches a function, literal paths before variables."""

from __future__ import annotations

import socket
import subprocess
import sys

import boto3
import jwt
import requests

from quantlink_local.client import OwnerClient
from quantlink_local.process import RunningStack


def test_owner_routes_refuse_missing_forged_and_access_tokens(local_stack: RunningStack) -> None:
    url = f"{local_stack.api_base}/api/strategies"
    forged = jwt.encode(
        {"sub": "x", "token_use": "id"}, "not-the-pool-key-but-long-enough-for-hs256!", algorithm="HS256"
    )
    cognito = boto3.session.Session().client(
        "cognito-idp", region_name="us-east-1", endpoint_url=local_stack.moto_endpoint,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    access = cognito.initiate_auth(
        ClientId=local_stack.info["clientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": local_stack.info["demoEmail"], "PASSWORD": local_stack.info["demoPassword"]},
    )["AuthenticationResult"]["AccessToken"]
    for headers in ({}, {"Authorization": "Bearer garbage"}, {"Authorization": f"Bearer {forged}"},
                    {"Authorization": f"Bearer {access}"}):  # fmt: skip
        answer = requests.get(url, headers=headers, timeout=10)
        assert answer.status_code == 401, headers
        assert answer.json()["code"] == "UNAUTHORIZED"


def test_the_demo_owner_printed_by_make_run_can_sign_in(local_stack: RunningStack) -> None:
    from quantlink_local.client import sign_in

    owner = OwnerClient(local_stack.api_base, sign_in(local_stack.api_base, local_stack.info["demoEmail"],
                                                      local_stack.info["demoPassword"]))  # fmt: skip
    assert owner.request("GET", "/api/strategies").status_code == 200


def test_unknown_routes_and_methods_answer_not_found_with_the_error_body(local_stack: RunningStack) -> None:
    for method, path in (("GET", "/api/nope"), ("DELETE", "/api/health"), ("GET", "/api/webhooks/joinquant/x")):
        answer = requests.request(method, f"{local_stack.api_base}{path}", timeout=10)
        assert answer.status_code == 404, (method, path)
        assert answer.json()["code"] == "NOT_FOUND"


def test_public_routes_answer_without_a_token(local_stack: RunningStack) -> None:
    config = requests.get(f"{local_stack.api_base}/api/config", timeout=10).json()
    assert config["cognito"]["userPoolId"] == local_stack.info["userPoolId"]
    assert config["cognito"]["clientId"] == local_stack.info["clientId"]
    assert config["cognito"]["endpoint"] == local_stack.moto_endpoint
    assert config["apiBase"].startswith("http://")
    document = requests.get(f"{local_stack.api_base}/api/openapi.json", timeout=10).json()
    assert "/api/terminals/pull" in document["paths"]


def test_terminal_pull_is_not_taken_for_a_terminal_id(owner: OwnerClient) -> None:
    # GET /api/terminals/pull is its own (public, token-checked) route, not GET /api/terminals/{terminalId}
    answer = requests.get(f"{owner.api_base}/api/terminals/pull", params={"wait": 0},
                          headers={"Authorization": "Bearer trm_x.y", "X-Device-Fingerprint": "device-0001"},
                          timeout=10)  # fmt: skip
    assert answer.status_code == 401
    assert answer.json()["code"] == "UNAUTHORIZED"


def test_a_busy_port_is_a_clear_message_and_nothing_is_left_running() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "quantlink_local", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert f"Port {port}" in result.stderr and "PORT=" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_demo_sends_one_signal_through_the_relay(local_stack: RunningStack) -> None:
    from quantlink_local.demo import run_demo

    delivery = run_demo(local_stack.api_base, local_stack.info["demoEmail"], local_stack.info["demoPassword"])
    assert delivery["status"] == "EXECUTED"
    assert all(delivery[s] for s in ("receivedAt", "queuedAt", "pulledAt", "executedAt", "ackedAt"))
