"""A signal's own status (what the timeline shows) from its stored status and its deliveries."""

from __future__ import annotations

import pytest

from quantlink.models import DeliveryStatus, SignalState, SignalStatus

Q, P, X, F, R, E = (DeliveryStatus.QUEUED, DeliveryStatus.PULLED, DeliveryStatus.EXECUTED, DeliveryStatus.FAILED,
                    DeliveryStatus.REJECTED, DeliveryStatus.EXPIRED)  # fmt: skip


@pytest.mark.parametrize(
    ("deliveries", "state"),
    [
        ([], SignalState.UNDELIVERED),
        ([Q], SignalState.QUEUED),
        ([Q, Q], SignalState.QUEUED),
        ([P], SignalState.DELIVERED),
        ([Q, P], SignalState.DELIVERED),
        ([Q, F], SignalState.DELIVERED),  # one failed, one still on its way: not settled yet
        ([X], SignalState.EXECUTED),
        ([X, X], SignalState.EXECUTED),
        ([X, Q], SignalState.PARTIALLY_EXECUTED),
        ([X, F], SignalState.PARTIALLY_EXECUTED),
        ([X, E], SignalState.PARTIALLY_EXECUTED),
        ([E], SignalState.EXPIRED),
        ([E, E], SignalState.EXPIRED),
        ([R, R], SignalState.REJECTED),
        ([F], SignalState.FAILED),
        ([F, E], SignalState.FAILED),
        ([R, E], SignalState.FAILED),
    ],
)
def test_a_fanned_out_signal_takes_the_status_its_deliveries_add_up_to(
    deliveries: list[DeliveryStatus], state: SignalState
) -> None:
    assert SignalState.of(SignalStatus.FANNED_OUT, deliveries) == state


@pytest.mark.parametrize("stored", [SignalStatus.RECEIVED, SignalStatus.HELD])
def test_before_its_fan_out_is_done_or_when_held_a_signal_shows_its_stored_status(stored: SignalStatus) -> None:
    assert SignalState.of(stored, [X]).value == stored.value
