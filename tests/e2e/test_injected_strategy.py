"""Injected strategies over real HTTP.

First against a tiny webhook served here on 127.0.0.1 (real urllib, real sockets, real time: the
retry and time-budget behaviour), then against the local stack's real webhook: one signal per
order, in order, with the right fields; none from a backtest; a retry answered `duplicate: true`.
The strategies run under the fake JoinQuant runtime the unit tests use.
"""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from quantlink.injection import inject
from quantlink_local.client import OwnerClient
from tests.unit.injection.fake_joinquant import FakeJoinQuant, OrderStatus

CORPUS = Path(__file__).parents[1] / "unit" / "injection" / "corpus"
REBALANCER = (CORPUS / "daily_rebalance_hs300.py").read_text(encoding="utf-8")
FAST = {"QUANTLINK_TRY_TIMEOUT_SECONDS": 0.3, "QUANTLINK_BAR_BUDGET_SECONDS": 1.5}
# The local stack answers through moto on a shared laptop: give each bar room, not the 5 s of JoinQuant.
ROOMY = {"QUANTLINK_BAR_BUDGET_SECONDS": 120.0}


def strategy(orders: int) -> str:
    return (
        "def initialize(context):\n"
        "    run_daily(trade, '9:30')\n\n"
        "def trade(context):\n"
        f"    for security in {['600000.XSHG', '600036.XSHG', '601318.XSHG', '000001.XSHE'][:orders]!r}:\n"
        "        order(security, 100)\n"
        "    g.bar_done = True\n"
    )


def accepted(joinquant: FakeJoinQuant) -> list[Any]:
    return [o for o in joinquant.placed if o.status is not OrderStatus.rejected]


# ---- A tiny webhook on 127.0.0.1 -----------------------------------------------------------------


@dataclass
class TinyWebhook:
    """202 for new bytes, 200 duplicate for bytes seen before; `script` makes the next requests
    answer a status, "lose" (take the body, answer too late), or "hang" (never answer in time)."""

    url: str = ""
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    script: list[Any] = field(default_factory=list)
    seen: list[bytes] = field(default_factory=list)


@pytest.fixture
def tiny_webhook() -> Iterator[TinyWebhook]:
    hook = TinyWebhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            step = hook.script.pop(0) if hook.script else None
            if step == "hang":
                time.sleep(1.0)
                return
            if isinstance(step, int):
                self._answer(step, {"code": "SCRIPTED", "message": "scripted"})
                return
            duplicate = body in hook.seen
            if not duplicate:
                hook.seen.append(body)
            if step == "lose":
                time.sleep(1.0)  # the body is taken; the answer comes after the sender gave up
            self._answer(200 if duplicate else 202, {"signalId": "sig", "duplicate": duplicate, "deliveries": 1})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the sender timed out and went away

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/api/webhooks/joinquant/st_tiny"
    yield hook
    server.shutdown()
    server.server_close()


def test_every_order_goes_out_over_http_with_the_token(tiny_webhook: TinyWebhook) -> None:
    code = inject(REBALANCER, webhook_url=tiny_webhook.url, token="tok-1").code
    joinquant = FakeJoinQuant().run(code, days=2)
    signals = [json.loads(body) for path, _, body in tiny_webhook.requests if not path.endswith("/positions")]
    assert [s["order"]["id"] for s in signals] == [o.order_id for o in accepted(joinquant)]
    assert len(signals) > 10
    assert all(headers["authorization"] == "Bearer tok-1" for _, headers, _ in tiny_webhook.requests)
    assert [path for path, _, _ in tiny_webhook.requests if path.endswith("/positions")] == [
        "/api/webhooks/joinquant/st_tiny/positions"
    ] * 2


def test_a_retry_over_http_sends_the_same_bytes(tiny_webhook: TinyWebhook) -> None:
    tiny_webhook.script = [503, "lose"]
    code = inject(strategy(1), webhook_url=tiny_webhook.url, token="t").code
    joinquant = FakeJoinQuant(settings=FAST).run(code)
    tries = [body for path, _, body in tiny_webhook.requests if not path.endswith("/positions")]
    assert len(tries) == 3 and len(set(tries)) == 1
    assert tiny_webhook.seen[0] == tries[0] and joinquant.g.bar_done


def test_a_webhook_that_never_answers_holds_a_bar_up_only_for_the_budget(tiny_webhook: TinyWebhook) -> None:
    tiny_webhook.script = ["hang"] * 10
    code = inject(strategy(4), webhook_url=tiny_webhook.url, token="t").code
    joinquant = FakeJoinQuant(settings=FAST)
    joinquant.load(code)
    joinquant._call("initialize")
    joinquant._at(0, "09:30")
    started = time.monotonic()
    joinquant._call("trade")
    assert time.monotonic() - started < FAST["QUANTLINK_BAR_BUDGET_SECONDS"] + 0.5
    assert joinquant.g.bar_done and len(joinquant.placed) == 4


def test_an_unreachable_webhook_is_logged_not_raised() -> None:
    code = inject(strategy(2), webhook_url="http://127.0.0.1:9/api/webhooks/joinquant/st_x", token="t").code
    joinquant = FakeJoinQuant(settings=FAST).run(code)
    assert joinquant.g.bar_done
    assert any("could not reach QuantLink" in line for line in joinquant.log.warnings())


# ---- The local stack's webhook -------------------------------------------------------------------


class RecordingTransport:
    """urllib's urlopen, keeping each answer; `lose_first` drops the first answer on the floor
    after QuantLink took the body, as a timeout on JoinQuant's side would."""

    def __init__(self, lose_first: bool = False) -> None:
        self.answers: list[tuple[str, int, dict[str, Any]]] = []
        self.bodies: list[bytes] = []
        self.lose_first = lose_first

    def __call__(self, request: urllib.request.Request, timeout: float) -> io.BytesIO:
        assert isinstance(request.data, bytes)
        self.bodies.append(request.data)
        with urllib.request.urlopen(request, timeout=max(timeout, 10)) as response:  # the stack runs moto
            status, data = response.status, response.read()
        self.answers.append((request.full_url, status, json.loads(data)))
        if self.lose_first:
            self.lose_first = False
            raise urllib.error.URLError(TimeoutError("timed out"))
        return io.BytesIO(data)


def set_up_strategy(owner: OwnerClient, code: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    created = owner.create_strategy("injected")
    terminal = owner.create_terminal("qmt")
    owner.subscribe(terminal["terminalId"], created["strategyId"])
    # The owner's way in: the inject route, asking for a fresh token to embed
    response = owner.request(
        "POST", f"/api/strategies/{created['strategyId']}/inject", {"code": code, "rotateToken": True}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["injected"] >= 1 and f"'{answer['webhookToken']}'" in answer["code"]
    assert f"QUANTLINK_WEBHOOK_URL = '{created['webhookUrl']}'" in answer["code"]
    return created, terminal, answer["code"]


@pytest.mark.e2e
def test_one_signal_per_order_in_order_with_the_right_fields(owner: OwnerClient) -> None:
    created, terminal, code = set_up_strategy(owner, REBALANCER)
    transport = RecordingTransport()

    joinquant = FakeJoinQuant(transport=transport, settings=ROOMY).run(code)

    placed = accepted(joinquant)
    assert len(placed) >= 10
    timeline = list(reversed(owner.signals(created["strategyId"], limit=200)))
    assert [s["sourceOrderId"] for s in timeline] == [o.order_id for o in placed]
    assert [s["seq"] for s in timeline] == list(range(1, len(placed) + 1))
    for signal, order in zip(timeline, placed, strict=True):
        assert signal["sourceSecurity"] == order.security
        assert signal["security"] == order.security.replace(".XSHG", ".SH").replace(".XSHE", ".SZ")
        assert (signal["side"], signal["amount"]) == ("buy" if order.is_buy else "sell", order.amount)
        assert signal["runType"] == "sim_trade" and signal["dt"] == "2026-11-16T09:35:00+08:00"
        assert len(signal["deliveries"]) == 1
    order_answers = [answer for url, _, answer in transport.answers if not url.endswith("/positions")]
    assert all(status == 202 for url, status, _ in transport.answers)
    assert [a["duplicate"] for a in order_answers] == [False] * len(placed)

    # And the subscribed terminal pulls them in webhook order
    pulled = owner.pull(terminal["authToken"], "fingerprint-injected-1", wait=0, max_signals=10)
    assert [s["seq"] for s in pulled] == list(range(1, len(pulled) + 1)) and pulled


@pytest.mark.e2e
def test_a_backtest_sends_nothing(owner: OwnerClient) -> None:
    created, _, code = set_up_strategy(owner, REBALANCER)
    transport = RecordingTransport()
    joinquant = FakeJoinQuant("simple_backtest", transport=transport, settings=ROOMY).run(code, days=2)
    assert joinquant.placed
    assert transport.answers == []
    assert owner.signals(created["strategyId"]) == []


@pytest.mark.e2e
def test_a_retry_sends_identical_bytes_and_is_answered_duplicate(owner: OwnerClient) -> None:
    created, _, code = set_up_strategy(owner, strategy(1))
    transport = RecordingTransport(lose_first=True)
    FakeJoinQuant(transport=transport, settings=ROOMY).run(code)
    first, retry = [answer for url, _, answer in transport.answers if not url.endswith("/positions")]
    assert transport.bodies[0] == transport.bodies[1]  # the retry repeats the bytes exactly
    assert first["duplicate"] is False and first["deliveries"] == 1
    assert retry == {"signalId": first["signalId"], "duplicate": True}
    assert len(owner.signals(created["strategyId"])) == 1
