"""Per-source seam: each source is one module that turns (headers, raw body) into normalized signals,
each with a dedup key, in front of the shared dedup / fan-out path. Registering a source is one line
below (plus its route in template.yaml, which the local stack and the OpenAPI test read)."""

from __future__ import annotations

from quantlink.errors import ValidationFailed
from quantlink.models import Sizing, SizingMode, Strategy
from quantlink.sources import joinquant, quantdinger, tradingview
from quantlink.sources.base import Parsed, Source

SOURCES: dict[str, Source] = {
    joinquant.SOURCE.name: joinquant.SOURCE,
    quantdinger.SOURCE.name: quantdinger.SOURCE,
    tradingview.SOURCE.name: tradingview.SOURCE,
}


def source_of(strategy: Strategy) -> Source:
    return SOURCES[strategy.source]


def check_source(strategy: Strategy, source: Source) -> None:
    """A webhook for another source than the strategy's is refused (the caller holds the token, so saying
    where its webhooks go reveals nothing)."""
    if strategy.source != source.name:
        expected = SOURCES[strategy.source]
        raise ValidationFailed(
            f"This strategy takes {expected.label} webhooks, at {expected.resource}, not {source.label} ones.",
            details=[{"field": "path", "message": f"the strategy's source is {strategy.source}"}],
        )


def sizing_for(strategy: Strategy, requested: Sizing | None) -> Sizing:
    """The sizing a subscription gets. Ratio (the default) scales by the leader's portfolio value; a
    source that sends none is mirrored when no mode is asked for, and refuses ratio when it is."""
    source = source_of(strategy)
    sizing = requested or Sizing()
    if source.sends_portfolio_value:
        return sizing
    if "mode" not in sizing.model_fields_set:
        return Sizing(mode=SizingMode.MIRROR, multiplier=sizing.multiplier)
    if sizing.mode == SizingMode.RATIO:
        raise ValidationFailed(
            f"Ratio sizing scales by the strategy's portfolio value, which {source.label} does not send: "
            "use mirror (the source's share count) or fixed (that count times the multiplier).",
            details=[{"field": "sizing.mode", "message": f"ratio is not available for {source.name} strategies"}],
        )
    return sizing


__all__ = ["SOURCES", "Parsed", "Source", "check_source", "sizing_for", "source_of"]
