"""What every source adapter is: one module that turns (headers, raw body) into zero or more normalized
signals, each with its dedup key, in front of the shared dedup / fan-out path (quantlink.relay)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from quantlink.http import Request
from quantlink.models import IncomingSignal, Strategy


@dataclass(frozen=True)
class Parsed:
    """What one webhook call carries: the signals to relay (in order), or none and why (`ignored`: the
    event name a source sent that carries no order, answered 200 so the sender does not retry)."""

    signals: tuple[IncomingSignal, ...] = ()
    ignored: str | None = None


# (the request, the authenticated strategy, the body cap, when it was received) -> what it carries.
# Raises Unauthorized (a signature that does not verify) or ValidationFailed (a body this source refuses).
Parse = Callable[[Request, Strategy, int, datetime], Parsed]


@dataclass(frozen=True)
class Source:
    name: str  # the path segment: POST /api/webhooks/<name>/{strategyId}
    label: str  # how a person names it
    token: Callable[[Request], str | None]  # where this source carries the webhook token
    parse: Parse
    body: type[BaseModel]  # the body it posts (the OpenAPI document's request schema)
    # Whether its signals carry the leader's portfolio value, which ratio sizing scales by.
    sends_portfolio_value: bool

    @property
    def resource(self) -> str:
        return f"/api/webhooks/{self.name}/{{strategyId}}"
