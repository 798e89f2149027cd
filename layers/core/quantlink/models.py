"""Every body and record, typed. Wire names are camelCase (API.md); Python names are snake_case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as date_type
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from quantlink.timeutil import iso
from quantlink.views import Omitted, omitted

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
    """What the signal record stores: RECEIVED → FANNED_OUT (handed to every subscribed terminal's queue),
    or HELD (the strategy was paused: recorded, never delivered, never re-driven)."""

    RECEIVED = "RECEIVED"
    FANNED_OUT = "FANNED_OUT"
    HELD = "HELD"


class DeliveryStatus(StrEnum):
    QUEUED = "QUEUED"
    PULLED = "PULLED"
    EXECUTED = "EXECUTED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    # The share it went out under was paused, revoked or expired before the terminal pulled it: never
    # delivered (a pull drops it), final.
    REVOKED = "REVOKED"

    @property
    def is_final(self) -> bool:
        return self not in (DeliveryStatus.QUEUED, DeliveryStatus.PULLED)


ShortText = Annotated[str, Field(max_length=128)]


class SignalState(StrEnum):
    """A signal's status as the owner reads it (the timeline's `status`): the stored status until the
    fan-out is done, then what its deliveries add up to, recomputed on every read (nothing is written
    on the pull / ack path for it). In order of precedence, once FANNED_OUT:

    UNDELIVERED          no terminal was subscribed (no delivery)
    EXECUTED             every delivery EXECUTED
    PARTIALLY_EXECUTED   some EXECUTED, the others anything else (pending or settled otherwise)
    QUEUED               none executed, some pending, none pulled yet (every delivery QUEUED)
    DELIVERED            none executed, some pending, at least one terminal has pulled it
    EXPIRED              all settled, every one EXPIRED
    REJECTED             all settled, every one REJECTED
    FAILED               all settled, none executed, a mix of FAILED / REJECTED / EXPIRED
    REVOKED              every delivery REVOKED (its share ended before any terminal pulled it)

    A REVOKED delivery is settled and owes nothing: the others decide the status, as if it were absent.
    """

    RECEIVED = "RECEIVED"  # recorded, the fan-out not finished yet (re-driven if it stays so)
    HELD = "HELD"  # the strategy was paused: recorded, delivered to no terminal, then or later
    UNDELIVERED = "UNDELIVERED"
    QUEUED = "QUEUED"
    DELIVERED = "DELIVERED"
    PARTIALLY_EXECUTED = "PARTIALLY_EXECUTED"
    EXECUTED = "EXECUTED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"

    @classmethod
    def of(cls, stored: SignalStatus, deliveries: list[DeliveryStatus]) -> SignalState:
        if stored != SignalStatus.FANNED_OUT:
            return cls(stored.value)
        if not deliveries:
            return cls.UNDELIVERED
        if all(status == DeliveryStatus.REVOKED for status in deliveries):
            return cls.REVOKED
        deliveries = [status for status in deliveries if status != DeliveryStatus.REVOKED]
        executed = deliveries.count(DeliveryStatus.EXECUTED)
        if executed == len(deliveries):
            return cls.EXECUTED
        if executed:
            return cls.PARTIALLY_EXECUTED
        if not all(status.is_final for status in deliveries):
            return cls.QUEUED if all(s == DeliveryStatus.QUEUED for s in deliveries) else cls.DELIVERED
        if len(set(deliveries)) == 1 and deliveries[0] in (DeliveryStatus.EXPIRED, DeliveryStatus.REJECTED):
            return cls(deliveries[0].value)
        return cls.FAILED


# ---- numbers a client sends: finite, bounded, never dust --------------------------------------------
# JSON allows any number; DynamoDB stores magnitudes from 1e-130 to 1e126 with 38 digits, and a terminal
# executes what it is given. So every number a body carries is finite, within bounds no A-share order
# reaches, and either 0 or at least MIN_MAGNITUDE in size (1e-200 is no price, only a 500 waiting).
MAX_SHARES = 10**9  # shares in one order or position (the largest A-share listing has ~3.5e11; no order nears 1e9)
MAX_PRICE = 10**6  # CNY per share (the dearest A-share trades below 1e4)
MAX_MONEY = 10**13  # CNY in one portfolio
MIN_MAGNITUDE = 1e-6
MAX_SEQ = 2**53 - 1  # what a JavaScript client (the SPA) still reads exactly


def _not_dust(value: float) -> float:
    if value != 0 and abs(value) < MIN_MAGNITUDE:
        raise ValueError(f"must be 0 or at least {MIN_MAGNITUDE:g} in size")
    return value


def _exactly_int(value: Any) -> Any:
    """JSON true and 1.0 are not the integer 1 (Literal[1] alone would take both)."""
    if type(value) is not int:
        raise ValueError("must be a JSON integer")
    return value


_NOT_DUST = AfterValidator(_not_dust)
# CNY per share; 0 for "not known yet" (a market order before its fill)
Price = Annotated[float, Field(ge=0, le=MAX_PRICE, allow_inf_nan=False), _NOT_DUST]
LimitPrice = Annotated[float, Field(gt=0, le=MAX_PRICE, allow_inf_nan=False), _NOT_DUST]
# a share count as reported (positions, fills): may be fractional
Volume = Annotated[float, Field(ge=0, le=MAX_SHARES, allow_inf_nan=False), _NOT_DUST]
# cash may be negative on a margin account; a total value may not
Money = Annotated[float, Field(ge=-MAX_MONEY, le=MAX_MONEY, allow_inf_nan=False), _NOT_DUST]
Worth = Annotated[float, Field(ge=0, le=MAX_MONEY, allow_inf_nan=False), _NOT_DUST]
Multiplier = Annotated[float, Field(gt=0, le=100, allow_inf_nan=False), _NOT_DUST]
ShareCount = Annotated[int, Field(gt=0, le=MAX_SHARES)]
Seq = Annotated[int, Field(ge=0, le=MAX_SEQ)]
Version1 = Annotated[Literal[1], BeforeValidator(_exactly_int)]


# ---- JoinQuant webhook bodies (API.md, v 1) -------------------------------------------------------


class JoinQuantOrder(CamelModel):
    id: ShortText | None = None
    fn: ShortText | None = None
    security: Annotated[str, Field(min_length=1, max_length=32)]
    side: Side
    amount: ShareCount
    price: Price | None = None
    style: ShortText | None = None
    limit_price: LimitPrice | None = None


class JoinQuantPortfolio(CamelModel):
    total_value: Worth | None = None
    cash: Money | None = None
    position_after: Volume | None = None


class JoinQuantSignalBody(CamelModel):
    v: Version1
    seq: Seq
    sent_at: ShortText | None = None
    run_type: ShortText | None = None
    dt: ShortText | None = None
    order: JoinQuantOrder
    portfolio: JoinQuantPortfolio | None = None


class JoinQuantPosition(CamelModel):
    security: Annotated[str, Field(min_length=1, max_length=32)]
    amount: Volume
    price: Price | None = None


class JoinQuantPositionsBody(CamelModel):
    v: Version1
    dt: ShortText | None = None
    positions: Annotated[list[JoinQuantPosition], Field(max_length=2000)]
    total_value: Worth | None = None
    cash: Money | None = None


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
    # API.md `closeAll`: the source means "sell everything sellable" (`amount` is then for reference only).
    close_all: bool = False


# ---- Records --------------------------------------------------------------------------------------


def _known_source(name: str) -> str:
    from quantlink.sources import SOURCES  # the registry imports these models: read it on first use

    if name not in SOURCES:
        raise ValueError(f"must be one of {', '.join(SOURCES)}")
    return name


def _source_names(schema: dict[str, Any]) -> None:
    from quantlink.sources import SOURCES

    schema["enum"] = list(SOURCES)


# Where a strategy's signals come from (quantlink.sources registers each one).
SourceName = Annotated[str, AfterValidator(_known_source), Field(json_schema_extra=_source_names)]
JOINQUANT = "joinquant"


class Strategy(CamelModel):
    strategy_id: str
    owner_id: str
    name: str
    webhook_token_hash: str
    source: str = JOINQUANT  # records from before sources existed are JoinQuant's
    # QuantDinger's HMAC key, sealed under the webhook token (quantlink.sealing): checking a signature needs
    # the key itself, so unlike the token it cannot be stored as a hash. In no answer after the one that made it.
    sealed_signing_secret: str | None = None
    signal_ttl_seconds: int = 300
    paused: bool = False  # the owner's kill switch: signals are recorded HELD, delivered to no terminal
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
    # The terminal's open push WebSocket (API Gateway connection id), while it holds one.
    push_connection_id: str | None = None
    push_connected_at: Timestamp | None = None
    # Throttling's fixed-window counters (quantlink.throttling): the window last counted in, and how
    # many calls it counted; never in an answer.
    pull_window: int | None = None
    pull_count: int = 0
    ack_window: int | None = None
    ack_count: int = 0
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


class Origin(StrEnum):
    """Where a signal came from (API.md `origin`): the strategy's source, or an owner-approved drift repair."""

    SOURCE = "source"
    SYNC = "sync"


class SignalRecord(CamelModel):
    signal_id: str
    strategy_id: str
    status: SignalStatus
    origin: Origin = Origin.SOURCE
    # A sync order goes to one terminal only, whoever else follows the strategy (re-drives included).
    target_terminal_id: str | None = None
    sizing: dict[str, Any] | None = None  # a sync order's own (an exact count), instead of the subscription's
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
    close_all: bool | None = None  # stored only when true (API.md `closeAll`)

    @classmethod
    def new(cls, signal_id: str, strategy: Strategy, incoming: IncomingSignal, received_at: datetime) -> SignalRecord:
        """RECEIVED, to be fanned out; HELD when the strategy is paused."""
        order = incoming.order
        return cls(
            signal_id=signal_id,
            strategy_id=strategy.strategy_id,
            status=SignalStatus.HELD if strategy.paused else SignalStatus.RECEIVED,
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
            close_all=incoming.close_all or None,
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
    pushed_at: Timestamp | None = None
    pulled_at: Timestamp | None = None
    acked_at: Timestamp | None = None
    outcome: Outcome = Field(default_factory=Outcome)
    expires_at: Timestamp | None = None  # the signal's: a delivery not pulled by then is EXPIRED

    @property
    def handed_at(self) -> datetime | None:
        """When the terminal first had the signal: pushed or pulled, whichever came first."""
        times = [t for t in (self.pushed_at, self.pulled_at) if t is not None]
        return min(times) if times else None


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
    origin: Origin = Origin.SOURCE
    close_all: Literal[True] | Omitted = omitted(
        'Only when the source means "sell all that is sellable": `amount` is then the leader\'s count, for '
        "reference only."
    )

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
            sizing=signal.sizing if signal.sizing is not None else subscription.sizing,
            created_at=signal.received_at,
            expires_at=signal.expires_at,
            origin=signal.origin,
            close_all=True if signal.close_all else None,
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
    filled: Volume | None = None
    avg_price: Price | None = None
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
    volume: Volume
    avg_price: Price | None = None
    # Shares sellable now (T+1: not those bought today). Absent: all of them, as after the close, when the
    # agent reports and a sync suggestion would run the next session.
    sellable: Volume | None = None


class TerminalPositionsBody(CamelModel):
    as_of: ClientTimestamp
    positions: Annotated[list[TerminalPosition], Field(max_length=2000)]
    cash: Money | None = None
    total_asset: Worth | None = None


# ---- Owner API bodies -----------------------------------------------------------------------------

Name = Annotated[str, Field(min_length=1, max_length=100)]


MAX_SIGNAL_TTL_SECONDS = 86400


class CreateStrategyBody(CamelModel):
    name: Name
    source: SourceName = JOINQUANT
    signal_ttl_seconds: Annotated[int, Field(ge=5, le=MAX_SIGNAL_TTL_SECONDS)] = 300


class UpdateStrategyBody(CamelModel):
    """PATCH /api/strategies/{strategyId}: each field optional, at least one given, nothing else."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)

    name: Name | None = None
    paused: bool | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        given = {name: getattr(self, name) for name in self.model_fields_set}
        if not given:
            raise ValueError("give name and/or paused")
        if None in given.values():
            raise ValueError("name and paused cannot be null (leave a field out to keep it)")
        return self


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
    multiplier: Multiplier = 1.0


class SubscribeBody(CamelModel):
    sizing: Sizing | None = None


class InjectBody(CamelModel):
    code: Annotated[str, Field(max_length=1_000_000)]
    rotate_token: bool = False
    send_in_backtest: bool = False


# ---- Drift bodies (API.md "Drift") ------------------------------------------------------------------

# Robots post only to the vendors' own documented hosts: a robot URL is not a way to make the server
# call anything else (SSRF).
ROBOT_HOSTS = {
    "dingtalk": ("oapi.dingtalk.com",),
    "wecom": ("qyapi.weixin.qq.com",),
    "feishu": ("open.feishu.cn", "open.larksuite.com"),
}


# A trading day QuantLink can speak of (the calendar knows nothing earlier; later is far past its data).
TradingDate = Annotated[date_type, Field(ge=date_type(2000, 1, 1), le=date_type(2100, 12, 31))]


class DriftComputeBody(CamelModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)

    date: TradingDate | None = None  # default: the latest trading day with data


class DriftSyncBody(CamelModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)

    date: TradingDate


class DriftThresholdBody(CamelModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)

    threshold: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), _NOT_DUST]


class RobotConfig(CamelModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)

    kind: Literal["dingtalk", "wecom", "feishu"]
    url: Annotated[str, Field(min_length=10, max_length=500)]
    secret: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _vendor_host(self) -> Self:
        parsed = urlsplit(self.url)
        if parsed.scheme != "https" or parsed.hostname not in ROBOT_HOSTS[self.kind] or parsed.username:
            raise ValueError(f"a {self.kind} robot URL is https://{ROBOT_HOSTS[self.kind][0]}/…")
        return self


class DriftAlertsBody(CamelModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)

    email: bool = True  # alerts to the signed-in owner's address
    robots: Annotated[list[RobotConfig], Field(max_length=5)] = Field(default_factory=list)
