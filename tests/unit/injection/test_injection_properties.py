"""Property tests of injection over generated strategies (random nestings of JoinQuant order calls in
statements, branches, loops, helpers and expressions): the output compiles, injecting again changes
nothing, stripping gives back the exact input, one report follows every order call site, and run on
the JoinQuant stand-in, every order JoinQuant accepted is sent once, in order."""

from __future__ import annotations

from dataclasses import dataclass
from textwrap import indent

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantlink.injection import inject, strip
from quantlink.injection.markers import MARKER
from tests.unit.injection.fake_joinquant import INDEX_STOCKS, FakeClock, FakeJoinQuant, FakeWebhook

URL = "https://quantlink.example/api/webhooks/joinquant/st_props"
SECURITIES = st.sampled_from(INDEX_STOCKS[:6])
PROPERTIES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Source:
    code: str
    call_sites: int  # order calls written in the source


def _order_call(draw: st.DrawFn) -> str:
    security = f"'{draw(SECURITIES)}'"
    fn, amount = draw(
        st.sampled_from(
            [
                ("order", str(draw(st.integers(-300, 800)))),
                ("order_target", str(draw(st.integers(0, 900)))),
                ("order_value", str(draw(st.integers(-5_000, 20_000)))),
                ("order_target_value", str(draw(st.integers(0, 20_000)))),
            ]
        )
    )
    return f"{fn}({security}, {amount})"


@st.composite
def _block(draw: st.DrawFn, depth: int = 0) -> tuple[list[str], int]:
    """Statements (each possibly several lines) and how many order calls they contain."""
    lines: list[str] = []
    calls = 0
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(["order", "assigned", "commented", "log", "if", "for", "try"][: 4 if depth >= 2 else 7])
        )
        if kind == "order":
            lines.append(_order_call(draw))
            calls += 1
        elif kind == "assigned":
            lines.append(f"o = {_order_call(draw)}")
            calls += 1
        elif kind == "commented":
            lines.append(f"{_order_call(draw)}  # 调仓 rebalance")
            calls += 1
        elif kind == "log":
            lines.append("log.info('tick %s' % context.current_dt)")
        else:
            inner, inner_calls = draw(_block(depth + 1))
            body = indent("\n".join(inner), "    ")
            header = {
                "if": f"if context.portfolio.available_cash > {draw(st.integers(0, 200_000))}:",
                "for": "for _ in range(2):",
                "try": "try:",
            }[kind]
            tail = "\nexcept Exception as error:\n    log.warn(str(error))" if kind == "try" else ""
            lines.append(f"{header}\n{body}{tail}")
            calls += inner_calls
    return lines, calls


@st.composite
def strategies(draw: st.DrawFn) -> Source:
    trade, calls = draw(_block())
    helper, helper_calls = draw(_block(depth=1))
    uses_helper = draw(st.booleans())
    code = (
        "# 聚宽策略\nimport jqdata\n\n\n"
        "def initialize(context):\n"
        "    set_benchmark('000300.XSHG')\n"
        "    run_daily(trade, '9:30')\n\n\n"
        "def trade(context):\n" + indent("\n".join(trade), "    ") + "\n"
        + ("    rebalance(context)\n" if uses_helper else "")
        + "\n\ndef rebalance(context):\n" + indent("\n".join(helper), "    ") + "\n"
    )  # fmt: skip
    return Source(code=code, call_sites=calls + helper_calls)


@PROPERTIES
@given(strategies())
def test_injection_round_trips_and_reports_every_order_call_site(source: Source) -> None:
    result = inject(source.code, webhook_url=URL, token="tok")

    compile(result.code, "strategy.py", "exec")
    assert result.injected == source.call_sites
    assert inject(result.code, webhook_url=URL, token="tok").code == result.code  # idempotent
    assert strip(result.code) == source.code  # the owner's code, byte for byte
    reports = [
        line for line in result.code.splitlines()
        if "send_signal_to_quantlink(" in line and MARKER in line and not line.lstrip().startswith("def ")
    ]  # fmt: skip
    assert len(reports) == source.call_sites


@PROPERTIES
@given(strategies(), st.booleans())
def test_every_order_joinquant_accepted_is_sent_once_in_order(source: Source, fill: bool) -> None:
    clock = FakeClock()
    joinquant = FakeJoinQuant("sim_trade", clock=clock, fill=fill)
    webhook = FakeWebhook(joinquant, clock)
    joinquant.transport = webhook

    joinquant.run(inject(source.code, webhook_url=URL, token="tok").code, days=2)

    sent = [s.json["order"]["id"] for s in webhook.order_sends()]
    assert sent == [order.order_id for order in joinquant.placed]
    assert [s.json["seq"] for s in webhook.order_sends()] == list(range(1, len(sent) + 1))
