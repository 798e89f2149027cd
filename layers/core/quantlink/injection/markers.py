"""Names the injected code uses, shared by every transform, `check` and the tests.

Plain constants only: importing this module must stay free (STYLE §2).
"""

from __future__ import annotations

# Every line the injector inserts ends with this comment; `strip` removes exactly those lines.
MARKER = "# quantlink:injected"

# What the injected code calls. A statement form reports after the user's statement; a call form
# wraps an order call (inside `return`, conditions, lambdas...) and returns its value unchanged.
REPORTER = "send_signal_to_quantlink"
# Registered with `run_daily(POSITION_REPORTER, POSITION_REPORT_TIME)` in `initialize(context)`.
POSITION_REPORTER = "quantlink_report_positions"
POSITION_REPORT_TIME = "15:05"

# Module-level settings in the injected runtime, read back by `check`.
URL_SETTING = "QUANTLINK_WEBHOOK_URL"
TOKEN_SETTING = "QUANTLINK_WEBHOOK_TOKEN"
BACKTEST_SETTING = "QUANTLINK_SEND_IN_BACKTEST"
VERSION_SETTING = "QUANTLINK_RUNTIME_VERSION"

# Embedded when the caller does not hand over the webhook token (the API keeps only its hash).
TOKEN_PLACEHOLDER = "<QUANTLINK_WEBHOOK_TOKEN>"
# Embedded by the CLI when no --url is given and the file carries no earlier injection.
URL_PLACEHOLDER = "<QUANTLINK_WEBHOOK_URL>"

# JoinQuant's order functions, as strategies call them: bare names the platform puts in the
# strategy's globals (or that `from jqdata import *` brings in).
ORDER_FUNCTIONS = frozenset(
    {
        "order",
        "order_target",
        "order_value",
        "order_target_value",
        "order_target_percent",
        "order_to",
        "order_shares",
        "buy",
        "sell",
    }
)

# `from <one of these> import order_target as ot` binds JoinQuant's own function, not a user one.
JOINQUANT_MODULES = frozenset({"jqdata", "kuanke", "jqlib", "jqfactor", "jqtrade"})
