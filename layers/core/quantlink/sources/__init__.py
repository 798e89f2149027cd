"""Per-source seam: each source turns (headers, raw body) into a normalized signal and a dedup key,
in front of the shared dedup / fan-out path. JoinQuant is the first; QuantDinger and TradingView
get their own module here."""
