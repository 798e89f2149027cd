"""The hot path's answers: the webhook's, the pull's signals and the ack's results."""

from __future__ import annotations

from typing import Literal

from quantlink.models import CamelModel, DeliveryStatus, QueuedSignal
from quantlink.views import Omitted, omitted


class SignalAccepted(CamelModel):
    signal_id: str
    duplicate: Literal[False] = False
    deliveries: int
    held: Literal[True] | Omitted = omitted(
        "Only when the strategy is paused: the signal was recorded (status HELD) and is delivered to no "
        "terminal, then or later."
    )


class SignalDuplicate(CamelModel):
    """The same bytes were received before for this strategy: nothing is delivered again."""

    signal_id: str
    duplicate: Literal[True] = True


class WebhookIgnored(CamelModel):
    """A source's event that carries no order (QuantDinger's `qd.profile_test`, or any event other than
    `qd.signal`): recorded in the log and metrics, nothing relayed. 200, so the sender does not retry."""

    ignored: Literal[True] = True
    event: str


class PositionsAccepted(CamelModel):
    accepted: Literal[True] = True
    positions: int


class PulledSignal(QueuedSignal):
    ack_token: str


class PullAnswer(CamelModel):
    signals: list[PulledSignal]


class AckResult(CamelModel):
    signal_id: str
    ok: bool
    status: DeliveryStatus | Omitted = omitted()
    code: str | Omitted = omitted()
    message: str | Omitted = omitted()


class AckAnswer(CamelModel):
    results: list[AckResult]
