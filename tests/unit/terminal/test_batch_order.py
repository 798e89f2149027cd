"""Within one pulled batch: sells before buys, never reordering two signals for the same security."""

from __future__ import annotations

from quantlink_terminal.models import Signal
from quantlink_terminal.ordering import execution_order


def sig(signal_id: str, security: str, side: str) -> Signal:
    return Signal(signal_id=signal_id, ack_token="t", strategy_id="st", seq=0, security=security, side=side, amount=100)


def ids(batch: list[Signal]) -> list[str]:
    return [s.signal_id for s in execution_order(batch)]


def test_sells_move_ahead_of_buys_of_other_securities() -> None:
    batch = [
        sig("b1", "600000.SH", "buy"),
        sig("s1", "000001.SZ", "sell"),
        sig("b2", "600519.SH", "buy"),
        sig("s2", "300750.SZ", "sell"),
    ]
    assert ids(batch) == ["s1", "s2", "b1", "b2"]


def test_a_buy_then_sell_of_one_security_keeps_its_order() -> None:
    batch = [sig("b1", "600000.SH", "buy"), sig("s1", "600000.SH", "sell"), sig("s2", "000001.SZ", "sell")]
    assert ids(batch) == ["s2", "b1", "s1"]


def test_same_security_chain_is_never_reordered() -> None:
    batch = [
        sig("s1", "600000.SH", "sell"),
        sig("b1", "600000.SH", "buy"),
        sig("s2", "600000.SH", "sell"),
        sig("b2", "000001.SZ", "buy"),
    ]
    order = ids(batch)
    assert [i for i in order if i in ("s1", "b1", "s2")] == ["s1", "b1", "s2"]
    assert order.index("s1") == 0


def test_all_buys_keep_the_pulled_order() -> None:
    batch = [sig("b1", "600000.SH", "buy"), sig("b2", "000001.SZ", "buy"), sig("b3", "600519.SH", "buy")]
    assert ids(batch) == ["b1", "b2", "b3"]
