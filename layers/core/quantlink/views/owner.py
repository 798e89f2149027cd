"""The owner API's answers (and its public routes'): strategies, the signal timeline, terminals,
subscriptions."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field

from quantlink.models import (
    CamelModel,
    DeliveryRecord,
    DeliveryStatus,
    Leader,
    Side,
    SignalState,
    Sizing,
    Strategy,
    Terminal,
    TimelineEntry,
    Timestamp,
)
from quantlink.timeutil import millis_between
from quantlink.views import Omitted, omitted

# ---- public routes --------------------------------------------------------------------------------


class Health(CamelModel):
    status: Literal["ok"] = "ok"


class CognitoConfig(CamelModel):
    endpoint: str
    user_pool_id: str
    client_id: str


class PublicConfig(CamelModel):
    region: str
    cognito: CognitoConfig
    api_base: str


# ---- strategies -----------------------------------------------------------------------------------


class StrategyView(CamelModel):
    strategy_id: str
    name: str
    webhook_url: str
    signal_ttl_seconds: int
    paused: bool = Field(
        description="The kill switch: while true, signals are recorded HELD and delivered to no terminal."
    )
    created_at: Timestamp
    source: str = Field(description="Where its signals come from: joinquant, quantdinger or tradingview.")

    @classmethod
    def of(cls, strategy: Strategy, webhook_url: str, **extra: Any) -> Self:
        return cls(
            strategy_id=strategy.strategy_id,
            name=strategy.name,
            source=strategy.source,
            webhook_url=webhook_url,
            signal_ttl_seconds=strategy.signal_ttl_seconds,
            paused=strategy.paused,
            created_at=strategy.created_at,
            **extra,
        )


class CreatedStrategy(StrategyView):
    webhook_token: str = Field(description="Shown once: only its hash is stored.")
    signing_secret: str | Omitted = omitted(
        "QuantDinger only, shown once: paste it into QuantDinger's webhook signing secret (it signs every call)."
    )
    alert_template: str | Omitted = omitted(
        "TradingView only, shown once (it holds the webhook token): the alert message to paste into TradingView."
    )


class StrategyList(CamelModel):
    items: list[StrategyView]


class WebhookToken(CamelModel):
    webhook_token: str
    signing_secret: str | Omitted = omitted("QuantDinger only: the new signing secret (the old one stops working).")
    alert_template: str | Omitted = omitted("TradingView only: the alert message with the new token.")


class InjectResult(CamelModel):
    code: str
    injected: int
    warnings: list[str]
    webhook_token: str | Omitted = omitted("Only when rotateToken was asked for (shown once).")


class DeliveryView(CamelModel):
    terminal_id: str
    status: DeliveryStatus
    received_at: Timestamp
    queued_at: Timestamp
    pulled_at: Timestamp | None
    executed_at: Timestamp | None
    acked_at: Timestamp | None
    latency_ms: int | None = Field(description="received → pulled")
    ack_latency_ms: int | None = Field(description="received → acked")
    broker_order_id: str | None
    filled: float | None
    avg_price: float | None
    error: str | None

    @classmethod
    def of(cls, delivery: DeliveryRecord) -> DeliveryView:
        outcome = delivery.outcome
        return cls(
            terminal_id=delivery.terminal_id,
            status=delivery.status,
            received_at=delivery.received_at,
            queued_at=delivery.queued_at,
            pulled_at=delivery.pulled_at,
            executed_at=outcome.executed_at,
            acked_at=delivery.acked_at,
            latency_ms=millis_between(delivery.received_at, delivery.pulled_at),
            ack_latency_ms=millis_between(delivery.received_at, delivery.acked_at),
            broker_order_id=outcome.broker_order_id,
            filled=outcome.filled,
            avg_price=outcome.avg_price,
            error=outcome.error,
        )


class SignalView(CamelModel):
    signal_id: str
    strategy_id: str
    status: SignalState = Field(description="Follows the deliveries as they settle (see SignalState)")
    seq: int
    security: str
    source_security: str
    side: Side
    amount: int
    price: float | None
    style: str | None
    limit_price: float | None
    source_order_id: str | None
    leader: Leader
    run_type: str | None
    dt: str | None
    sent_at: str | None
    received_at: Timestamp
    expires_at: Timestamp
    fanned_out_at: Timestamp | None
    deliveries: list[DeliveryView]
    close_all: Literal[True] | Omitted = omitted('Only when the source meant "sell all that is sellable".')

    @classmethod
    def of(cls, entry: TimelineEntry) -> SignalView:
        fields = entry.signal.model_dump(exclude={"dedup_key", "deliveries", "status"})
        status = SignalState.of(entry.signal.status, [d.status for d in entry.deliveries])
        return cls(**fields, status=status, deliveries=[DeliveryView.of(d) for d in entry.deliveries])


class TimelinePage(CamelModel):
    items: list[SignalView]
    next_before: str | None = Field(description="Pass as ?before= for the next (older) page; null at the end.")


# ---- terminals ------------------------------------------------------------------------------------


class TerminalView(CamelModel):
    terminal_id: str
    name: str
    kind: str
    device_bound: bool
    device_bound_at: Timestamp | None
    last_seen_at: Timestamp | None
    created_at: Timestamp

    @classmethod
    def of(cls, terminal: Terminal, **extra: Any) -> Self:
        return cls(
            terminal_id=terminal.terminal_id,
            name=terminal.name,
            kind=terminal.kind,
            device_bound=terminal.device_fingerprint_hash is not None,
            device_bound_at=terminal.device_bound_at,
            last_seen_at=terminal.last_seen_at,
            created_at=terminal.created_at,
            **extra,
        )


class TerminalDetail(TerminalView):
    subscriptions: list[str] = Field(description="The ids of the strategies this terminal receives.")
    subscription_sizing: dict[str, Sizing] = Field(description="Each subscription's sizing, by strategy id.")


class CreatedTerminal(TerminalView):
    auth_token: str = Field(description="Shown once: only its hash is stored.")


class TerminalList(CamelModel):
    items: list[TerminalDetail]


class AuthToken(CamelModel):
    auth_token: str


class SubscriptionView(CamelModel):
    terminal_id: str
    strategy_id: str
    sizing: Sizing
