"""The ackToken a terminal gets with each pulled signal and sends back with its ack: written and read
here only. Terminals treat it as opaque (API.md).

    <kind>:<strategyId>:<receipt>

`kind` says how the signal reached the terminal and so what `receipt` is: `q1` for a pull from the
terminal's SQS queue (the receipt handle of that receive). Push delivery will add its own kind (with
no SQS receipt); a token of an unknown kind is malformed. The pull stores the hash of every receipt
it hands out on the delivery record (dal/deliveries.py), and an ack is recorded only when its
receipt's hash is there: a made-up or another terminal's token settles nothing."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from quantlink.ids import STRATEGY_PREFIX, hash_secret, is_id


class AckTokenKind(StrEnum):
    QUEUE = "q1"  # pulled from the terminal's SQS queue: the receipt is the receive's handle


@dataclass(frozen=True)
class AckToken:
    kind: AckTokenKind
    strategy_id: str
    receipt: str

    @classmethod
    def for_queue(cls, strategy_id: str, receipt_handle: str) -> AckToken:
        return cls(AckTokenKind.QUEUE, strategy_id, receipt_handle)

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
