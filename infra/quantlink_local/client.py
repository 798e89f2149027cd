"""A small HTTP client of the QuantLink API for tests, benches and scripts: signs in through
Cognito exactly as the SPA does (config → InitiateAuth → IdToken) and speaks API.md."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import boto3
import requests


class ApiError(Exception):
    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self.status = response.status_code
        try:
            self.body: dict[str, Any] = response.json()
        except ValueError:
            self.body = {"raw": response.text}
        super().__init__(f"{response.request.method} {response.url} -> {self.status} {self.body}")


def sign_in(api_base: str, email: str, password: str) -> str:
    """The owner's Cognito IdToken, found via GET /api/config like any client."""
    config = requests.get(f"{api_base}/api/config", timeout=10).json()
    cognito = boto3.session.Session().client(
        "cognito-idp",
        region_name=config["region"],
        endpoint_url=config["cognito"]["endpoint"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    answer = cognito.initiate_auth(
        ClientId=config["cognito"]["clientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    token: str = answer["AuthenticationResult"]["IdToken"]
    return token


class OwnerClient:
    def __init__(self, api_base: str, id_token: str) -> None:
        self.api_base = api_base.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {id_token}"

    def request(self, method: str, path: str, json_body: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.request(method, f"{self.api_base}{path}", json=json_body, timeout=30, **kwargs)

    def _ok(self, response: requests.Response) -> Any:
        if response.status_code >= 400:
            raise ApiError(response)
        return response.json() if response.content else None

    def create_strategy(self, name: str, **fields: Any) -> dict[str, Any]:
        created: dict[str, Any] = self._ok(self.request("POST", "/api/strategies", {"name": name, **fields}))
        return created

    def create_terminal(self, name: str) -> dict[str, Any]:
        created: dict[str, Any] = self._ok(self.request("POST", "/api/terminals", {"name": name, "kind": "qmt"}))
        return created

    def subscribe(self, terminal_id: str, strategy_id: str, sizing: dict[str, Any] | None = None) -> dict[str, Any]:
        body = {"sizing": sizing} if sizing is not None else None
        answer: dict[str, Any] = self._ok(
            self.request("PUT", f"/api/terminals/{terminal_id}/subscriptions/{strategy_id}", body)
        )
        return answer

    def signals(self, strategy_id: str, **query: Any) -> list[dict[str, Any]]:
        answer = self._ok(self.request("GET", f"/api/strategies/{strategy_id}/signals", params=query))
        items: list[dict[str, Any]] = answer["items"]
        return items

    def pull(self, auth_token: str, fingerprint: str, wait: int = 0, max_signals: int = 10) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.api_base}/api/terminals/pull",
            params={"wait": wait, "max": max_signals},
            headers={"Authorization": f"Bearer {auth_token}", "X-Device-Fingerprint": fingerprint},
            timeout=wait + 30,
        )
        signals: list[dict[str, Any]] = self._ok(response)["signals"]
        return signals

    def ack(self, auth_token: str, acks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        response = requests.post(
            f"{self.api_base}/api/terminals/ack",
            data=json.dumps({"acks": acks}),
            headers={"Authorization": f"Bearer {auth_token}", "Content-Type": "application/json"},
            timeout=30,
        )
        results: list[dict[str, Any]] = self._ok(response)["results"]
        return results


def joinquant_signal(
    seq: int, *, security: str = "600000.XSHG", side: str = "buy", amount: int = 1200, fn: str = "order_target_value"
) -> dict[str, Any]:
    """A JoinQuant signal body (API.md, v 1) as the injected code sends it."""
    return {
        "v": 1,
        "seq": seq,
        "sentAt": "2026-11-20T09:31:02.123+08:00",
        "runType": "sim_trade",
        "dt": "2026-11-20T09:31:00+08:00",
        "order": {"id": f"jq-{seq}", "fn": fn, "security": security, "side": side, "amount": amount,
                  "price": 10.52, "style": "market", "limitPrice": None},
        "portfolio": {"totalValue": 1000000.0, "cash": 250000.0, "positionAfter": amount},
    }  # fmt: skip


def post_webhook(webhook_url: str, token: str, body: bytes | dict[str, Any], **kwargs: Any) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(
        webhook_url,
        data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=30,
        **kwargs,
    )


def quantdinger_signal(
    pending_order_id: int,
    *,
    signal_type: str = "open_long",
    symbol: str = "600000.SH",
    ref_price: float = 10.52,
    stake_amount: float = 12624.0,
) -> dict[str, Any]:
    """A `qd.signal` body shaped as QuantDinger's generic webhook sender builds it (signal mode)."""
    now = int(time.time())
    return {
        "event": "qd.signal", "version": 1, "timestamp": now, "timestamp_iso": "", "timestamp_display": "",
        "strategy": {"id": 42, "name": "CN momentum"}, "instrument": {"symbol": symbol},
        "signal": {"type": signal_type, "action": signal_type.split("_")[0], "side": "long", "direction": "long"},
        "order": {"ref_price": ref_price, "stake_amount": stake_amount},
        "trace": {"pending_order_id": pending_order_id, "mode": "signal"},
        "extra": {"pending_order_id": pending_order_id, "mode": "signal"},
    }  # fmt: skip


def post_quantdinger(
    webhook_url: str, token: str, signing_secret: str, body: dict[str, Any], **kwargs: Any
) -> requests.Response:
    """POST as QuantDinger does: compact JSON, bearer token, X-QD-Timestamp and X-QD-Signature."""
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    timestamp = str(int(time.time()))
    digest = hmac.new(signing_secret.encode(), timestamp.encode() + b"." + data, hashlib.sha256).hexdigest()
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "X-QD-Timestamp": timestamp,
        "X-QD-Signature": digest,
    }
    return requests.post(webhook_url, data=data, headers=headers, timeout=30, **kwargs)


def tradingview_alert(
    token: str,
    *,
    ticker: str = "SSE:600000",
    action: str = "buy",
    contracts: int = 1200,
    market_position: str = "long",
    position_size: int = 1200,
    time_text: str = "",
) -> dict[str, Any]:
    """The strategy's alertTemplate as TradingView fills it in."""
    return {"token": token, "ticker": ticker, "action": action, "contracts": str(contracts), "price": "10.52",
            "orderId": "Long entry", "marketPosition": market_position, "positionSize": str(position_size),
            "time": time_text}  # fmt: skip


def post_tradingview(webhook_url: str, body: bytes | dict[str, Any], **kwargs: Any) -> requests.Response:
    """POST as TradingView does: no custom headers (the token is in the body or the URL)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(webhook_url, data=data, headers={"Content-Type": "application/json"}, timeout=30, **kwargs)
