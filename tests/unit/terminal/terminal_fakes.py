"""Test doubles for the terminal agent: a QuantLink API that speaks API.md on 127.0.0.1, a settable clock,
and builders for wire signals."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from quantlink_terminal.clock import CHINA_TZ
from quantlink_terminal.executors.base import AccountSnapshot, Executor, OrderRequest
from quantlink_terminal.models import Outcome
from quantlink_terminal.reasons import Reason

GOOD_TOKEN = "tt_good_token"
TRADING_MORNING = datetime(2026, 11, 20, 10, 0, tzinfo=CHINA_TZ)  # a Friday


class SettableClock:
    def __init__(self, now: datetime = TRADING_MORNING) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def wire_signal(
    signal_id: str,
    security: str = "600000.SH",
    side: str = "buy",
    amount: int = 1000,
    price: float | None = 10.0,
    limit_price: float | None = None,
    total_value: float = 1_000_000.0,
    position_after: int | None = None,
    sizing: dict[str, Any] | None = None,
    expires_at: datetime | None = None,
    seq: int = 1,
    close_all: bool | None = None,
    origin: str | None = None,
) -> dict[str, Any]:
    """A signal as the server hands it out (API.md Terminal section), minus the ackToken the fake adds;
    `closeAll` and `origin` appear only when given, as the server sends them only when they apply."""
    optional = {"closeAll": close_all, "origin": origin}
    return {
        **{key: value for key, value in optional.items() if value is not None},
        "signalId": signal_id,
        "strategyId": "st_1",
        "seq": seq,
        "security": security,
        "sourceSecurity": security.replace(".SH", ".XSHG").replace(".SZ", ".XSHE"),
        "side": side,
        "amount": amount,
        "price": price,
        "style": "limit" if limit_price is not None else "market",
        "limitPrice": limit_price,
        "leader": {"totalValue": total_value, "positionAfter": position_after},
        "sizing": sizing if sizing is not None else {"mode": "mirror"},
        "createdAt": TRADING_MORNING.isoformat(),
        "expiresAt": (expires_at or TRADING_MORNING + timedelta(hours=1)).isoformat(),
    }


class FakeQuantLink:
    """The terminal endpoints of API.md with an in-memory queue that behaves like the real one: a pulled
    signal is invisible until acked or until `expire_visibility()` (the visibility timeout) hands it out
    again with a fresh ackToken."""

    def __init__(self, token: str = GOOD_TOKEN, max_hold_seconds: float = 0.2) -> None:
        self.token = token
        self.max_hold_seconds = max_hold_seconds
        self.bound_device: str | None = None
        self.visible: list[dict[str, Any]] = []
        self.in_flight: dict[str, dict[str, Any]] = {}
        self.acked: dict[str, dict[str, Any]] = {}  # signalId -> the accepted ack
        self.ack_requests: list[list[dict[str, Any]]] = []
        self.pull_queries: list[dict[str, list[str]]] = []
        self.positions: list[dict[str, Any]] = []
        self.failures: dict[str, list[int]] = {}  # path -> statuses to answer its next requests with
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path with query, headers)
        self.deliveries = 0
        self.push_url: str | None = None  # offered by GET /api/config when set (API.md "Push")
        self.retry_afters: list[str | None] = []  # the Retry-After of each injected 429, in order (throttle())
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def api_base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeQuantLink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- what tests do ------------------------------------------------------------------------------

    def publish(self, *signals: dict[str, Any]) -> None:
        with self._changed:
            self.visible.extend(signals)
            self._changed.notify_all()

    def expire_visibility(self) -> None:
        """The visibility timeout ran out: every pulled, unacked signal becomes pullable again."""
        with self._changed:
            self.visible.extend(self.in_flight.values())
            self.in_flight.clear()
            self._changed.notify_all()

    def fail(self, path: str, *statuses: int) -> None:
        """Answer the next requests to `path` with these statuses (e.g. 503) instead of serving them."""
        self.failures.setdefault(path, []).extend(statuses)

    def throttle(self, path: str, times: int = 1, retry_after: str | None = "7") -> None:
        """Answer the next `times` requests to `path` as the pull and ack functions do past their limit:
        429 RATE_LIMITED with this Retry-After (None: without one, as API Gateway's own throttling)."""
        self.retry_afters.extend([retry_after] * times)
        self.fail(path, *[429] * times)

    def all_acks(self) -> list[dict[str, Any]]:
        return [ack for request in self.ack_requests for ack in request]

    # -- the API ------------------------------------------------------------------------------------

    def _pull(self, headers: Any, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        self.pull_queries.append(query)
        wait = min(float(query.get("wait", ["20"])[0]), self.max_hold_seconds)
        limit = int(query.get("max", ["10"])[0])
        with self._changed:
            if not self.visible and wait > 0:
                self._changed.wait(wait)
            batch, self.visible = self.visible[:limit], self.visible[limit:]
            handed_out = []
            for signal in batch:
                self.deliveries += 1
                delivered = dict(signal, ackToken=f"{signal['signalId']}#{self.deliveries}")
                self.in_flight[signal["signalId"]] = delivered
                handed_out.append(delivered)
        return 200, {"signals": handed_out}

    def _ack(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        acks = body.get("acks", [])
        self.ack_requests.append(acks)
        results = []
        with self._changed:
            for ack in acks:
                signal_id = ack["signalId"]
                current = self.in_flight.get(signal_id)
                if current is not None and current["ackToken"] == ack["ackToken"]:
                    del self.in_flight[signal_id]
                    self.acked[signal_id] = ack
                    results.append({"signalId": signal_id, "ok": True})
                else:
                    # Already acked is harmless (ok); a stale or unknown token is not.
                    results.append({"signalId": signal_id, "ok": signal_id in self.acked})
        return 200, {"results": results}

    def _route(
        self, method: str, path: str, headers: Any, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]] | tuple[int, dict[str, Any], dict[str, str]]:
        """(status, body) or, with headers of its own, (status, body, headers)."""
        url = urlparse(path)
        self.requests.append((method, path, dict(headers.items())))
        if self.failures.get(url.path):
            status = self.failures[url.path].pop(0)
            if status == 429:
                retry_after = self.retry_afters.pop(0) if self.retry_afters else None
                extra = {"Retry-After": retry_after} if retry_after is not None else {}
                return status, {"code": "RATE_LIMITED", "message": "injected"}, extra
            return status, {"code": "INTERNAL", "message": "injected"}
        if url.path == "/api/health":
            return 200, {"status": "ok"}
        if url.path == "/api/config" and self.push_url is not None:
            return 200, {"region": "local", "apiBase": self.api_base, "push": {"url": self.push_url}}
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"code": "UNAUTHORIZED", "message": "bad token"}
        device = headers.get("X-Device-Fingerprint")
        if device is not None:
            if not 8 <= len(device) <= 128:
                return 400, {"code": "VALIDATION_ERROR", "message": "bad fingerprint", "details": []}
            if url.path == "/api/terminals/pull" and self.bound_device is None:
                self.bound_device = device  # first device wins
            if self.bound_device is not None and device != self.bound_device:
                return 409, {"code": "DEVICE_TAKEN_OVER", "message": "another device owns this terminal"}
        if method == "GET" and url.path == "/api/terminals/pull":
            return self._pull(headers, parse_qs(url.query))
        if method == "POST" and url.path == "/api/terminals/ack":
            return self._ack(body)
        if method == "POST" and url.path == "/api/terminals/positions":
            self.positions.append(body)
            return 202, {}
        return 404, {"code": "NOT_FOUND", "message": path}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                status, payload, *extra = fake._route(method, self.path, self.headers, body)
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in (extra[0] if extra else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: pytest shows failures, not access logs."""

        return Handler


class CountingExecutor:
    """Any executor, with every call to the broker counted: a test of "placed once" must see the calls, not
    only the account (the paper broker dedupes a repeated client order id, so its account cannot tell)."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.name = inner.name
        self.placed: list[OrderRequest] = []
        self.looked_up: list[str] = []

    def connect(self) -> None:
        self.inner.connect()

    def close(self) -> None:
        self.inner.close()

    def account(self) -> AccountSnapshot:
        return self.inner.account()

    def last_price(self, security: str) -> float | None:
        return self.inner.last_price(security)

    def refuses(self, security: str) -> Reason | None:
        return self.inner.refuses(security)

    def place(self, order: OrderRequest) -> Outcome:
        self.placed.append(order)
        return self.inner.place(order)

    def find_order(self, client_order_id: str) -> Outcome | None:
        self.looked_up.append(client_order_id)
        return self.inner.find_order(client_order_id)
