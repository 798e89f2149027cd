"""Each function's environment is one settings model, validated once at cold start.

Plain pydantic models read from an explicit mapping (pydantic-settings costs ~110 ms of cold import,
which the hot path cannot afford); domain code receives these objects and never reads os.environ."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quantlink.ratelimit import RateLimit
from quantlink.throttling import TerminalRate

_T = TypeVar("_T", bound="FunctionSettings")


class FunctionSettings(BaseModel):
    # Built on first use (cold start), not at import: each function validates only its own model.
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    table_name: str = Field(min_length=1)
    queue_name_prefix: str = Field(min_length=1)

    @classmethod
    def from_environ(cls: type[_T], environ: Mapping[str, str]) -> _T:
        """Field `table_name` reads `TABLE_NAME`; a missing required variable fails at cold start."""
        values = {name: environ[name.upper()] for name in cls.model_fields if name.upper() in environ}
        return cls.model_validate(values)


class WebhookSettings(FunctionSettings):
    max_body_bytes: int = 64 * 1024
    dedup_ttl_seconds: int = 7 * 24 * 3600
    # A fan-out that has not finished after this long is presumed dead and may be re-driven.
    fanout_lease_seconds: int = 15
    # The push WebSocket's management endpoint (PostToConnection); unset: signals are only queued.
    push_endpoint: str | None = None
    # At most this many signals per strategy per window (template Parameters WebhookRateLimit and
    # WebhookRateWindowSeconds); 0: no limit. Past it a webhook answers 429 RATE_LIMITED, recording nothing.
    webhook_rate_limit: int = Field(default=100, ge=0)
    webhook_rate_window_seconds: int = Field(default=10, ge=1, le=3600)

    def rate_limit(self) -> RateLimit | None:
        if self.webhook_rate_limit == 0:
            return None
        return RateLimit(self.webhook_rate_limit, self.webhook_rate_window_seconds)


# The template's MailFrom (an SES identity): invitation, expiry and drift alert emails come from it.
DEFAULT_MAIL_FROM = "noreply@quantlink.local"


class SweepSettings(FunctionSettings):
    # The webhook's lease (WebhookSettings.fanout_lease_seconds): a re-drive takes the same.
    fanout_lease_seconds: int = 15
    # A signal still RECEIVED this long after it arrived is presumed abandoned (past any live lease).
    stuck_after_seconds: int = Field(default=60, ge=1)
    sweep_batch: int = Field(default=500, ge=1)
    mail_from: str = DEFAULT_MAIL_FROM  # share expiry warnings


class DriftSettings(FunctionSettings):
    mail_from: str = DEFAULT_MAIL_FROM  # drift alerts


class TerminalSettings(FunctionSettings):
    max_body_bytes: int = 64 * 1024
    visibility_timeout_seconds: int = 60
    # Per-terminal throttling (quantlink.throttling; template Parameters TerminalPullLimit,
    # TerminalAckLimit, TerminalRateWindowSeconds): calls per window. An agent long-polling makes 3 pulls
    # a minute, a burst of 50 signals 5 pulls and 50 acks, a trading morning compressed into a minute
    # (the load bench: 500 signals a terminal) at most 500 of each; a runaway loop meets them.
    pull_rate_limit: int = Field(default=600, ge=1)
    ack_rate_limit: int = Field(default=1200, ge=1)
    rate_window_seconds: int = Field(default=60, ge=1)

    def pull_rate(self) -> TerminalRate:
        return TerminalRate(name="pull", limit=self.pull_rate_limit, window_seconds=self.rate_window_seconds)

    def ack_rate(self) -> TerminalRate:
        """Acks and holdings reports (the ack function's calls) count together."""
        return TerminalRate(name="ack", limit=self.ack_rate_limit, window_seconds=self.rate_window_seconds)


class OwnerApiSettings(FunctionSettings):
    region: str = "us-east-1"
    # The one origin a browser may call the owner API from (template CorsOrigin, by default the SPA's
    # website URL); unset, the origin of web_url, never "*".
    cors_origin: str = ""
    cognito_endpoint: str = Field(min_length=1)
    user_pool_id: str = Field(min_length=1)
    user_pool_client_id: str = Field(min_length=1)
    visibility_timeout_seconds: int = 60
    max_body_bytes: int = 1024 * 1024
    # Items a strategy's DELETE removes in one request beyond those that must go at once (a larger
    # partition is finished by deleting again): well inside the function's timeout.
    strategy_purge_batch: int = Field(default=5000, ge=1)
    # A drift sync's signals carry dedup markers as webhooks do (WebhookSettings.dedup_ttl_seconds).
    dedup_ttl_seconds: int = 7 * 24 * 3600
    # Sharing (API.md "Sharing"): where invitation links point (the SPA), who emails come from, and
    # what the pro plan allows.
    web_url: str = "http://localhost:3000"
    mail_from: str = DEFAULT_MAIL_FROM
    pro_max_shares: int = Field(default=1000, ge=0)
    pro_max_recipients_per_strategy: int = Field(default=100, ge=0)
    pro_max_bundles: int = Field(default=20, ge=0)
    pro_max_groups: int = Field(default=20, ge=0)

    # The terminals' push WebSocket, offered by GET /api/config when set.
    push_url: str | None = None

    @model_validator(mode="after")
    def _origin_of_the_spa(self) -> OwnerApiSettings:
        if not self.cors_origin:
            parts = urlsplit(self.web_url)
            object.__setattr__(self, "cors_origin", f"{parts.scheme}://{parts.netloc}")
        return self
