"""Every body and record, typed. Wire names are camelCase (API.md); Python names are snake_case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, GetJsonSchemaHandler, PlainSerializer
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from quantlink.timeutil import iso

# Serialized as the wire contract wants: ISO 8601, milliseconds, explicit offset.
Timestamp = Annotated[datetime, PlainSerializer(iso, return_type=str, when_used="json")]
# What clients send: an offset is required (API.md: "Times are ISO 8601 with offset").
ClientTimestamp = Annotated[AwareDatetime, PlainSerializer(iso, return_type=str, when_used="json")]


class CamelModel(BaseModel):
    # defer_build: each function builds only the validators it uses, on first use, instead of
    # every model of the package at import (cold start). In an answer's schema (serialization) a field
    # with a default is still always sent, hence required; one omitted when empty is not (see views.py).
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        defer_build=True,
        json_schema_serialization_defaults_required=True,
    )

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        omitted = {to_camel(name) for name, info in cls.model_fields.items() if info.exclude_if is not None}
        resolved = handler.resolve_ref_schema(schema)
        for name in omitted:  # absent, never null: neither required nor defaulting to null
            resolved.get("properties", {}).get(name, {}).pop("default", None)
        if omitted and "required" in resolved:
            resolved["required"] = [name for name in resolved["required"] if name not in omitted]
        return schema


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class SignalStatus(StrEnum):
    RECEIVED = "RECEIVED"
    FANNED_OUT = "FANNED_OUT"


class DeliveryStatus(StrEnum):
    QUEUED = "QUEUED"
    PULLED = "PULLED"
    EXECUTED = "EXECUTED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_final(self) -> bool:
        return self not in (DeliveryStatus.QUEUED, DeliveryStatus.PULLED)


ShortText = Annotated[str, Field(max_length=128)]


# ---- JoinQuant webhook bodies (API.md, v 1) -------------------------------------------------------


class JoinQuantOrder(CamelModel):
    id: ShortText | None = None
    fn: ShortText | None = None
    security: Annotated[str, Field(min_length=1, max_length=32)]
    side: Side
    amount: Annotated[int, Field(gt=0)]
    price: Annotated[float, Field(ge=0)] | None = None
    style: ShortText | None = None
    limit_price: Annotated[float, Field(gt=0)] | None = None


class JoinQuantPortfolio(CamelModel):
    total_value: float | None = None
    cash: float | None = None
    position_after: float | None = None


class JoinQuantSignalBody(CamelModel):
    v: Literal[1]
    seq: Annotated[int, Field(ge=0)]
    sent_at: ShortText | None = None
    run_type: ShortText | None = None
    dt: ShortText | None = None
    order: JoinQuantOrder
    portfolio: JoinQuantPortfolio | None = None


class JoinQuantPosition(CamelModel):
    security: Annotated[str, Field(min_length=1, max_length=32)]
    amount: Annotated[float, Field(ge=0)]
    price: float | None = None


class JoinQuantPositionsBody(CamelModel):
    v: Literal[1]
    dt: ShortText | None = None
    positions: Annotated[list[JoinQuantPosition], Field(max_length=2000)]
    total_value: float | None = None
    cash: float | None = None


# ---- Normalized signal (what every source turns its webhook into) --------------------------------


class Leader(CamelModel):
    total_value: float | None = None
    position_after: float | None = None


class TradeOrder(CamelModel):
    security: str  # exchange form: 600000.SH
    source_security: str  # as the source wrote it
    side: Side
    amount: int
    price: float | None = None
    style: str | None = None
    limit_price: float | None = None
    source_order_id: str | None = None


class IncomingSignal(CamelModel):
    """A source's webhook, normalized; `dedup_key` decides what counts as the same webhook."""

    dedup_key: str
    seq: int
    order: TradeOrder
    leader: Leader
    run_type: str | None = None
    dt: str | None = None
    sent_at: str | None = None


# ---- Records --------------------------------------------------------------------------------------


class Strategy(CamelModel):
    strategy_id: str
    owner_id: str
    name: str
    webhook_token_hash: str
    signal_ttl_seconds: int = 300
    created_at: Timestamp


class Terminal(CamelModel):
    terminal_id: str
    owner_id: str
    name: str
    kind: str
    auth_token_hash: str
    queue_url: str
    device_fingerprint_hash: str | None = None
    device_bound_at: Timestamp | None = None
    last_seen_at: Timestamp | None = None
    created_at: Timestamp


class Subscription(CamelModel):
    """Materialized: one item per (strategy, terminal) that the hot path reads with one Query."""

    strategy_id: str
    terminal_id: str
    owner_id: str  # the terminal's owner
    queue_url: str
    sizing: dict[str, Any] = Field(default_factory=dict)
    paused: bool = False
    expires_at: Timestamp | None = None
    created_at: Timestamp

    def active(self, at: datetime) -> bool:
        return not self.paused and (self.expires_at is None or self.expires_at > at)


class SignalRecord(CamelModel):
    signal_id: str
    strategy_id: str
    status: SignalStatus
    seq: int
    security: str
    source_security: str
    side: Side
    amount: int
    price: float | None = None
    style: str | None = None
    limit_price: float | None = None
    source_order_id: str | None = None
    leader: Leader
    run_type: str | None = None
    dt: str | None = None
    sent_at: str | None = None
    dedup_key: str
    received_at: Timestamp
    expires_at: Timestamp
    fanned_out_at: Timestamp | None = None
    deliveries: int | None = None

    @classmethod
    def new(cls, signal_id: str, strategy: Strategy, incoming: IncomingSignal, received_at: datetime) -> SignalRecord:
        order = incoming.order
        return cls(
            signal_id=signal_id,
            strategy_id=strategy.strategy_id,
            status=SignalStatus.RECEIVED,
            seq=incoming.seq,
            security=order.security,
            source_security=order.source_security,
            side=order.side,
            amount=order.amount,
            price=order.price,
            style=order.style,
            limit_price=order.limit_price,
            source_order_id=order.source_order_id,
            leader=incoming.leader,
            run_type=incoming.run_type,
            dt=incoming.dt,
            sent_at=incoming.sent_at,
            dedup_key=incoming.dedup_key,
            received_at=received_at,
            expires_at=received_at + timedelta(seconds=strategy.signal_ttl_seconds),
        )


class Outcome(CamelModel):
    broker_order_id: str | None = None
    filled: float | None = None
    avg_price: float | None = None
    executed_at: Timestamp | None = None
    error: str | None = None


class DeliveryRecord(CamelModel):
    signal_id: str
    strategy_id: str
    terminal_id: str
    status: DeliveryStatus
    received_at: Timestamp
    queued_at: Timestamp
    pulled_at: Timestamp | None = None
    acked_at: Timestamp | None = None
    outcome: Outcome = Field(default_factory=Outcome)


@dataclass(frozen=True)
class TimelineEntry:
    """A signal with its deliveries, as the owner's timeline reads them (one Query)."""

    signal: SignalRecord
    deliveries: list[DeliveryRecord]


# ---- Terminal wire bodies -------------------------------------------------------------------------


class QueuedSignal(CamelModel):
    """The SQS message body: everything a terminal gets, except the per-receive ackToken."""

    signal_id: str
    strategy_id: str
    seq: int
    security: str
    source_security: str
    side: Side
    amount: int
    price: float | None = None
    style: str | None = None
    limit_price: float | None = None
    leader: Leader
    sizing: dict[str, Any] = Field(default_factory=dict)
    created_at: Timestamp
    expires_at: Timestamp

    @classmethod
    def for_subscription(cls, signal: SignalRecord, subscription: Subscription) -> QueuedSignal:
        return cls(
            signal_id=signal.signal_id,
            strategy_id=signal.strategy_id,
            seq=signal.seq,
            security=signal.security,
            source_security=signal.source_security,
            side=signal.side,
            amount=signal.amount,
            price=signal.price,
            style=signal.style,
            limit_price=signal.limit_price,
            leader=signal.leader,
            sizing=subscription.sizing,
            created_at=signal.received_at,
            expires_at=signal.expires_at,
        )


class AckStatus(StrEnum):
    EXECUTED = "executed"
    FAILED = "failed"
    REJECTED = "rejected"

    @property
    def delivery_status(self) -> DeliveryStatus:
        return DeliveryStatus(self.value.upper())


class Ack(CamelModel):
    signal_id: Annotated[str, Field(min_length=1, max_length=64)]
    ack_token: Annotated[str, Field(min_length=1, max_length=4096)]
    status: AckStatus
    broker_order_id: Annotated[str, Field(max_length=128)] | None = None
    filled: float | None = None
    avg_price: float | None = None
    executed_at: ClientTimestamp | None = None
    error: Annotated[str, Field(max_length=2000)] | None = None

    def outcome(self) -> Outcome:
        return Outcome(
            broker_order_id=self.broker_order_id,
            filled=self.filled,
            avg_price=self.avg_price,
            executed_at=self.executed_at,
            error=self.error,
        )


class AckBody(CamelModel):
    acks: Annotated[list[Ack], Field(min_length=1, max_length=10)]


class TerminalPosition(CamelModel):
    security: Annotated[str, Field(min_length=1, max_length=32)]
    volume: Annotated[float, Field(ge=0)]
    avg_price: float | None = None


class TerminalPositionsBody(CamelModel):
    as_of: ClientTimestamp
    positions: Annotated[list[TerminalPosition], Field(max_length=2000)]
    cash: float | None = None
    total_asset: float | None = None


# ---- Owner API bodies -----------------------------------------------------------------------------

Name = Annotated[str, Field(min_length=1, max_length=100)]


class CreateStrategyBody(CamelModel):
    name: Name
    signal_ttl_seconds: Annotated[int, Field(ge=5, le=86400)] = 300


class CreateTerminalBody(CamelModel):
    name: Name
    kind: Literal["qmt", "ptrade"] = "qmt"


class SizingMode(StrEnum):
    MIRROR = "mirror"
    RATIO = "ratio"
    FIXED = "fixed"


class Sizing(CamelModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)

    mode: SizingMode = SizingMode.RATIO
    multiplier: Annotated[float, Field(gt=0, le=100)] = 1.0


class SubscribeBody(CamelModel):
    sizing: Sizing | None = None


class InjectBody(CamelModel):
    code: Annotated[str, Field(max_length=1_000_000)]
    rotate_token: bool = False
    send_in_backtest: bool = False
