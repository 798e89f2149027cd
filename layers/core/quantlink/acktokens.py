"""The ackToken a terminal gets with each pulled signal and sends back with its ack: written and read
here only. Terminals treat it as opaque (API.md).

    <kind>:<strategyId>:<receipt>

`kind` says how the signal reached the terminal and so what `receipt` is: `q1` for a pull from the
terminal's SQS queue (the receipt handle of that receive), `p1` for a push over the terminal's
WebSocket (a random secret the fan-out made for that delivery: there is no SQS receipt, so the ack
deletes no message, and the queued copy is dropped as settled when a pull meets it). A token of an
unknown kind is malformed. The hash of every receipt handed out is on the delivery record
(dal/deliveries.py): the pull adds it when it marks the delivery PULLED, the fan-out writes a push
receipt's with the record itself. An ack is recorded only when its receipt's hash is there: a
made-up or another terminal's token settles nothing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum

from quantlink.ids import STRATEGY_PREFIX, hash_secret, is_id


class AckTokenKind(StrEnum):
    QUEUE = "q1"  # pulled from the terminal's SQS queue: the receipt is the receive's handle
    PUSH = "p1"  # pushed over the terminal's WebSocket: the receipt is a secret made for the delivery


@dataclass(frozen=True)
class AckToken:
    kind: AckTokenKind
    strategy_id: str
    receipt: str

    @classmethod
    def for_queue(cls, strategy_id: str, receipt_handle: str) -> AckToken:
        return cls(AckTokenKind.QUEUE, strategy_id, receipt_handle)

    @classmethod
    def for_push(cls, strategy_id: str) -> AckToken:
        return cls(AckTokenKind.PUSH, strategy_id, secrets.token_urlsafe(24))

    @property
    def queue_receipt(self) -> str | None:
        """The SQS receipt handle to delete on ack; None for a pushed signal (nothing was received)."""
        return self.receipt if self.kind == AckTokenKind.QUEUE else None

    def encode(self) -> str:
        return f"{self.kind.value}:{self.strategy_id}:{self.receipt}"

    @property
    def receipt_hash(self) -> str:
        """What the delivery record keeps of the receipt (the receipt itself is a credential)."""
        return hash_secret(self.receipt)

    @classmethod
    def parse(cls, token: str) -> AckToken | None:
        """None when the token is not one QuantLink wrote."""
        kind, _, rest = token.partition(":")
        strategy_id, _, receipt = rest.partition(":")
        known = {k.value: k for k in AckTokenKind}.get(kind)
        if known is None or not receipt or not is_id(strategy_id, STRATEGY_PREFIX):
            return None
        return cls(known, strategy_id, receipt)
