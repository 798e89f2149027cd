"""Strategies: create, list, read, rename / pause, delete, rotate the webhook token, inject the sender
into code, timeline."""

from __future__ import annotations

from datetime import timedelta

from quantlink import sealing
from quantlink.dal.ports import OwnerStore, StrategyStore
from quantlink.errors import NotFound, ValidationFailed
from quantlink.ids import STRATEGY_PREFIX, hash_secret, is_id, new_strategy_id, new_webhook_token
from quantlink.models import (
    JOINQUANT,
    MAX_SIGNAL_TTL_SECONDS,
    CreateStrategyBody,
    InjectBody,
    SignalState,
    Strategy,
    UpdateStrategyBody,
)
from quantlink.sources import quantdinger, tradingview
from quantlink.timeutil import now
from quantlink.views.owner import (
    CreatedStrategy,
    InjectResult,
    SignalView,
    StrategyList,
    StrategyView,
    TimelinePage,
    WebhookToken,
)


def webhook_url(api_base: str, strategy_id: str, source: str = JOINQUANT) -> str:
    return f"{api_base.rstrip('/')}/api/webhooks/{source}/{strategy_id}"


def _url(api_base: str, strategy: Strategy) -> str:
    return webhook_url(api_base, strategy.strategy_id, strategy.source)


def _sealed(shown: dict[str, str], token: str, strategy_id: str) -> str | None:
    """The signing secret as stored: sealed under the webhook token, which is stored only as a hash."""
    secret = shown.get("signing_secret")
    return None if secret is None else sealing.seal(token, strategy_id, secret)


def _source_secrets(source: str, token: str) -> dict[str, str]:
    """What a source needs beside the token, shown with it (once): QuantDinger's signing secret,
    TradingView's alert message (which carries the token)."""
    if source == quantdinger.NAME:
        return {"signing_secret": quantdinger.new_signing_secret()}
    if source == tradingview.NAME:
        return {"alert_template": tradingview.alert_template(token)}
    return {}


def owned_strategy(store: StrategyStore, owner_id: str, strategy_id: str) -> Strategy:
    strategy = store.get_strategy(strategy_id) if is_id(strategy_id, STRATEGY_PREFIX) else None
    if strategy is None or strategy.owner_id != owner_id:
        raise NotFound("No such strategy.")
    return strategy


def create_strategy(store: StrategyStore, owner_id: str, body: CreateStrategyBody, *, api_base: str) -> CreatedStrategy:
    """The webhook token (and a source's signing secret or alert template) is in the answer once; only the
    token's hash is stored."""
    token = new_webhook_token()
    shown = _source_secrets(body.source, token)
    strategy_id = new_strategy_id()
    strategy = Strategy(
        strategy_id=strategy_id,
        owner_id=owner_id,
        name=body.name,
        webhook_token_hash=hash_secret(token),
        source=body.source,
        sealed_signing_secret=_sealed(shown, token, strategy_id),
        signal_ttl_seconds=body.signal_ttl_seconds,
        created_at=now(),
    )
    store.put_strategy(strategy)
    return CreatedStrategy.of(strategy, _url(api_base, strategy), webhook_token=token, **shown)


def list_strategies(store: StrategyStore, owner_id: str, *, api_base: str) -> StrategyList:
    strategies = store.list_strategies(owner_id)
    return StrategyList(items=[StrategyView.of(s, _url(api_base, s)) for s in strategies])


def get_strategy(store: StrategyStore, owner_id: str, strategy_id: str, *, api_base: str) -> StrategyView:
    strategy = owned_strategy(store, owner_id, strategy_id)
    return StrategyView.of(strategy, _url(api_base, strategy))


def update_strategy(
    store: StrategyStore, owner_id: str, strategy_id: str, body: UpdateStrategyBody, *, api_base: str
) -> StrategyView:
    """Rename and / or pause (the owner's kill switch) or resume. While paused, each webhook is recorded
    HELD and delivered to no terminal, then or later; resuming delivers the signals that come after."""
    strategy = owned_strategy(store, owner_id, strategy_id)
    changes = body.model_dump(exclude_unset=True)
    store.update_strategy(strategy_id, owner_id, **changes)
    return StrategyView.of(strategy.model_copy(update=changes), _url(api_base, strategy))


# Signals younger than this may still be pulled (their TTL has not run out); the margin covers clocks
# that disagree and a webhook still fanning out when the delete began.
_STILL_DELIVERABLE = timedelta(seconds=MAX_SIGNAL_TTL_SECONDS + 300)


def delete_strategy(store: OwnerStore, owner_id: str, strategy_id: str, *, purge_batch: int) -> None:
    """Delete a strategy with everything under it: its webhook answers 401 at once (like an unknown id),
    its subscriptions go first (no fan-out reaches a terminal), then every signal that could still be
    delivered, with its deliveries (a terminal's pull drops a message whose delivery is gone, so nothing
    queued executes afterwards), then the rest of its partition, `purge_batch` items per call. A purge
    cut short (a very large partition) is resumed by deleting again, which answers the same."""
    if not is_id(strategy_id, STRATEGY_PREFIX):
        raise NotFound("No such strategy.")
    at = now()
    store.tombstone_strategy(strategy_id, owner_id, at=at)
    store.delete_strategy_subscriptions(strategy_id)
    store.delete_signals_since(strategy_id, since=at - _STILL_DELIVERABLE)
    store.purge_strategy(strategy_id, max_items=purge_batch)


def rotate_webhook_token(store: StrategyStore, owner_id: str, strategy_id: str) -> WebhookToken:
    """The old token stops working at once; so does a QuantDinger strategy's old signing secret (both change
    in one write)."""
    strategy = owned_strategy(store, owner_id, strategy_id)
    token = new_webhook_token()
    shown = _source_secrets(strategy.source, token)
    sealed = _sealed(shown, token, strategy_id)
    store.set_webhook_token_hash(strategy_id, owner_id, hash_secret(token), sealed_signing_secret=sealed)
    return WebhookToken(webhook_token=token, **shown)


def inject_code(
    store: StrategyStore, owner_id: str, strategy_id: str, request: InjectBody, *, api_base: str
) -> InjectResult:
    """The strategy's code with the QuantLink sender injected. With `rotateToken` a new webhook token is
    embedded and replaces the old one, only once the code was injected (code that does not parse rotates
    nothing: the running strategy keeps working); otherwise the token placeholder is embedded."""
    from quantlink import injection  # libcst is imported on first use: only this operation needs it
    from quantlink.injection import api as injection_api

    strategy = owned_strategy(store, owner_id, strategy_id)
    if strategy.source != JOINQUANT:
        raise ValidationFailed(
            "Only a JoinQuant strategy's code is injected: this strategy's signals come from "
            f"{strategy.source} (see its webhookUrl).",
            details=[{"field": "strategyId", "message": f"the strategy's source is {strategy.source}"}],
        )
    if request.rotate_token:
        token = new_webhook_token()
        note = "The webhook token was rotated: code injected earlier stops working until re-injected."
    else:
        token = injection.TOKEN_PLACEHOLDER
        note = (
            f"{injection_api.TOKEN_PLACEHOLDER_WARNING}. Replace it with the webhook token shown when the "
            "strategy was created, or inject again with rotateToken: true to embed a new one."
        )
    result = injection.inject(
        request.code,
        webhook_url=webhook_url(api_base, strategy_id),
        token=token,
        send_in_backtest=request.send_in_backtest,
    )
    if request.rotate_token:
        store.set_webhook_token_hash(strategy_id, owner_id, hash_secret(token))
    return InjectResult(
        code=result.code,
        injected=result.injected,
        warnings=[*result.warnings, note],
        webhook_token=token if request.rotate_token else None,
    )


# A filtered page reads at most this many signals (a rare status must not scan a year of signals in one
# request): the page may then hold fewer than `limit`, and `nextBefore` goes on from the last one read.
TIMELINE_SCAN_LIMIT = 1000


def signal_timeline(
    store: OwnerStore,
    owner_id: str,
    strategy_id: str,
    *,
    limit: int,
    before: str | None,
    status: SignalState | None = None,
) -> TimelinePage:
    """Newest first, each signal with its deliveries and its status as they settle (SignalState), only
    those of `status` when given; `nextBefore` pages to older signals (null once nothing is left)."""
    owned_strategy(store, owner_id, strategy_id)
    items: list[SignalView] = []
    for scanned, entry in enumerate(store.timeline(strategy_id, before=before), start=1):
        view = SignalView.of(entry)
        if status is None or view.status == status:
            items.append(view)
        if len(items) == limit or (status is not None and scanned >= TIMELINE_SCAN_LIMIT):
            return TimelinePage(items=items, next_before=entry.signal.signal_id)
    return TimelinePage(items=items, next_before=None)
