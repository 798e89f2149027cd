"""Drift alerts, by email (SES) and by the chat robots Chinese traders read: DingTalk, WeCom (企业微信)
and Feishu (飞书) custom group robots, each in its documented message format and signing scheme.

- DingTalk: POST the robot URL (…/robot/send?access_token=…) with `&timestamp=<ms>&sign=<s>` appended,
  s = urlencode(base64(HmacSHA256(key=secret, msg=timestamp + "\\n" + secret))); body
  {"msgtype": "markdown", "markdown": {"title", "text"}}.
- WeCom: POST the robot URL (…/cgi-bin/webhook/send?key=…), no signature (the key is the secret); body
  {"msgtype": "markdown", "markdown": {"content"}}.
- Feishu: POST the robot URL (…/open-apis/bot/v2/hook/…); with a secret the body carries "timestamp"
  (seconds) and "sign" = base64(HmacSHA256(key=timestamp + "\\n" + secret, msg=b"")); body
  {"msg_type": "text", "content": {"text"}}.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from quantlink.observability import logger
from quantlink.views.drift import DriftReport

Post = Callable[[str, bytes], None]  # (url, JSON body): the one network call, injectable in tests
_TIMEOUT_SECONDS = 5


class RobotKind(StrEnum):
    DINGTALK = "dingtalk"
    WECOM = "wecom"
    FEISHU = "feishu"


@dataclass(frozen=True)
class Alert:
    title: str
    text: str  # plain text with light markdown (bold, lists) every robot renders


def post_json(url: str, body: bytes) -> None:
    request = urllib.request.Request(  # noqa: S310 - https robot URLs the owner configured
        url, data=body, headers={"Content-Type": "application/json; charset=utf-8"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS) as answer:  # noqa: S310
        answer.read()


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def robot_request(kind: RobotKind, url: str, secret: str | None, alert: Alert, *, now_ms: int) -> tuple[str, bytes]:
    """The URL and body one robot expects for this alert."""
    body: dict[str, Any]
    if kind == RobotKind.DINGTALK:
        if secret:
            separator = "&" if "?" in url else "?"
            url = f"{url}{separator}timestamp={now_ms}&sign={dingtalk_sign(secret, now_ms)}"
        body = {"msgtype": "markdown", "markdown": {"title": alert.title, "text": f"#### {alert.title}\n{alert.text}"}}
    elif kind == RobotKind.WECOM:
        body = {"msgtype": "markdown", "markdown": {"content": f"**{alert.title}**\n{alert.text}"}}
    else:
        body = {"msg_type": "text", "content": {"text": f"{alert.title}\n{alert.text}"}}
        if secret:
            seconds = now_ms // 1000
            body = {"timestamp": str(seconds), "sign": feishu_sign(secret, seconds), **body}
    return url, json.dumps(body, ensure_ascii=False).encode()


def drift_alert(report: DriftReport, terminal_name: str) -> Alert:
    worst = sorted((r for r in report.rows if not r.within_lot_bound), key=lambda r: -abs(r.diff_volume * r.price))
    lines = [
        f"Terminal {terminal_name} drifted on {report.date.isoformat()}: score {report.score:.1%} "
        f"(threshold {report.threshold:.1%}) | 终端 {terminal_name} 持仓偏离 {report.score:.1%}",
        *(
            f"- {r.security}: expected {r.expected_volume}, holds {r.actual_volume:g} (diff {r.diff_volume:+g})"
            for r in worst[:10]
        ),
        f"{len(report.sync)} sync order(s) suggested; review and send them in QuantLink | "
        "可在 QuantLink 中查看并发送同步指令",
    ]
    return Alert(title=f"QuantLink drift {report.score:.1%}: {terminal_name}", text="\n".join(lines))


def send_to_robots(robots: list[dict[str, Any]], alert: Alert, *, now_ms: int, post: Post = post_json) -> int:
    """Every configured robot gets the alert; one failing does not stop the others. Returns how many took it."""
    sent = 0
    for robot in robots:
        try:
            url, body = robot_request(RobotKind(robot["kind"]), robot["url"], robot.get("secret"), alert, now_ms=now_ms)
            post(url, body)
            sent += 1
        except (OSError, ValueError, KeyError) as error:
            logger.warning("an alert robot failed", extra={"kind": robot.get("kind"), "error": repr(error)})
    return sent
