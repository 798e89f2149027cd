"""Tokens are secrets ([11/11] item 3): after a full run of every way a token is made, used, misused and
rotated (webhook, terminal, QuantDinger and TradingView tokens, sign-in tokens, invitation tokens), no
token appears in plain text anywhere the operator (or a thief of the table or the logs)
can read: every DynamoDB item, every queued SQS message, the stack's whole log output."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from quantlink_local.client import (
    OwnerClient,
    joinquant_signal,
    post_quantdinger,
    post_tradingview,
    post_webhook,
    quantdinger_signal,
    sign_in,
    tradingview_alert,
)
from quantlink_local.process import RunningStack, start_stack


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningStack, Path]]:
    workdir = tmp_path_factory.mktemp("secrets")
    stack = start_stack(workdir)
    yield stack, workdir
    stack.stop()


def _everything_readable(stack: RunningStack, workdir: Path) -> str:
    dynamodb = stack.aws("dynamodb")
    dumped = []
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            dumped.append(json.dumps(page["Items"], default=str))
    sqs = stack.aws("sqs")
    for url in sqs.list_queues().get("QueueUrls", []):
        # A peek that leaves the messages where they are (visibility 0).
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, AttributeNames=["All"])
        dumped.append(json.dumps(answer.get("Messages", []), default=str))
    stack.stop()  # flush the log
    dumped.append((workdir / "stack.log").read_text(encoding="utf-8", errors="replace"))
    return "\n".join(dumped)


def test_no_token_is_stored_or_logged_in_plain_text(own_stack: tuple[RunningStack, Path]) -> None:
    stack, workdir = own_stack
    owner = stack.new_owner()
    id_token = str(owner.session.headers["Authorization"]).removeprefix("Bearer ")
    secrets: list[str] = [id_token]

    strategy = owner.create_strategy("secret keeper")
    other = owner.create_strategy("other")
    terminal = owner.create_terminal("secret terminal")
    owner.subscribe(terminal["terminalId"], strategy["strategyId"])
    secrets += [strategy["webhookToken"], other["webhookToken"], terminal["authToken"]]

    # Used, and misused: a right token, another strategy's token, a token in the wrong place.
    assert post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(1)).status_code == 202
    assert post_webhook(strategy["webhookUrl"], other["webhookToken"], joinquant_signal(2)).status_code == 401
    assert post_webhook(strategy["webhookUrl"], terminal["authToken"], joinquant_signal(3)).status_code == 401
    misplaced = {"Authorization": f"Bearer {strategy['webhookToken']}"}
    pull = requests.get(f"{stack.api_base}/api/terminals/pull", params={"wait": 0}, headers=misplaced, timeout=10)
    assert pull.status_code == 401
    pulled = owner.pull(terminal["authToken"], "device-1")
    owner.ack(terminal["authToken"], [{"signalId": s["signalId"], "ackToken": s["ackToken"], "status": "executed"}
                                      for s in pulled])  # fmt: skip

    # Rotated: the new tokens are secrets too, and so are the old ones.
    rotated = owner._ok(owner.request("POST", f"/api/strategies/{strategy['strategyId']}/token"))
    rotated_terminal = owner._ok(owner.request("POST", f"/api/terminals/{terminal['terminalId']}/token"))
    injected = owner._ok(owner.request("POST", f"/api/strategies/{other['strategyId']}/inject",
                                       {"code": "def initialize(context):\n    order('000001.XSHE', 100)\n",
                                        "rotateToken": True}))  # fmt: skip
    secrets += [rotated["webhookToken"], rotated_terminal["authToken"]]
    embedded = [line for line in injected["code"].splitlines() if "TOKEN" in line.upper() and "=" in line]
    assert embedded, "the inject answer embeds the rotated token"
    assert post_webhook(strategy["webhookUrl"], rotated["webhookToken"], joinquant_signal(4)).status_code == 202

    # QuantDinger's signing secret and TradingView's token in the body (or the URL) are secrets too.
    quantdinger = owner.create_strategy("qd secret", source="quantdinger")
    tradingview = owner.create_strategy("tv secret", source="tradingview")
    owner.subscribe(terminal["terminalId"], quantdinger["strategyId"])
    owner.subscribe(terminal["terminalId"], tradingview["strategyId"])
    qd_token, qd_secret = quantdinger["webhookToken"], quantdinger["signingSecret"]
    assert post_quantdinger(quantdinger["webhookUrl"], qd_token, qd_secret, quantdinger_signal(1)).status_code == 202
    assert post_quantdinger(quantdinger["webhookUrl"], qd_token, "qds_forged", quantdinger_signal(2)).status_code == 401
    tv_token = tradingview["webhookToken"]
    assert post_tradingview(tradingview["webhookUrl"], tradingview_alert(tv_token)).status_code == 202
    in_url = f"{tradingview['webhookUrl']}?token={tv_token}"
    assert post_tradingview(in_url, tradingview_alert("", ticker="NASDAQ:AAPL")).status_code == 400
    secrets += [qd_token, qd_secret, tv_token]

    # Invitation tokens are secrets too: a link's (in its URL) and an email invitation's (only in the email).
    admin = OwnerClient(stack.api_base, sign_in(stack.api_base, stack.info["demoEmail"], stack.info["demoPassword"]))
    user_id = owner._ok(owner.request("GET", "/api/me"))["userId"]
    admin._ok(admin.request("PUT", f"/api/admin/users/{user_id}/plan", {"plan": "pro"}))
    link = owner._ok(owner.request("POST", "/api/invitations", {"strategyId": strategy["strategyId"]}))
    link_token = link["url"].rsplit("/", 1)[1]
    friend = stack.new_owner()
    friend._ok(friend.request("POST", "/api/invitations/inspect", {"token": link_token}))
    friend._ok(friend.request("POST", "/api/invitations/accept", {"token": link_token}))
    owner._ok(owner.request("POST", "/api/invitations", {"strategyId": other["strategyId"],
                                                         "email": "invited-secret@example.com"}))  # fmt: skip
    outbox = requests.get(f"{stack.api_base}/local/outbox", timeout=10).json()
    (mail,) = [e for e in outbox if e["to"] == ["invited-secret@example.com"]]
    found = re.search(r"#/invitations/([A-Za-z0-9._~-]+)", mail["text"])
    assert found, mail["text"]
    secrets += [link_token, found.group(1)]

    readable = _everything_readable(stack, workdir)
    # The scan saw the records (so an absence below means something): ids are not secret.
    assert strategy["strategyId"] in readable and terminal["terminalId"] in readable
    assert pulled and pulled[0]["signalId"] in readable
    for secret in secrets:
        assert len(secret) >= 20
        assert secret not in readable, f"a token ({secret[:6]}…) is readable in plain text"
    # The injected code's token, whatever its form, is one of the strategy tokens made above or a new one:
    # find the long quoted value and check it too.
    for line in embedded:
        for part in line.replace("'", '"').split('"'):
            if len(part) >= 20 and " " not in part and "/" not in part:
                assert part not in readable, f"the injected token ({part[:6]}…) is readable in plain text"
