"""Auto-injection: make a JoinQuant strategy send every order it places to QuantLink.

`inject` adds a marked runtime and reports after each order call, `strip` removes exactly what
`inject` added, `check` tells whether code is injected and up to date. See docs/INJECTION.md.

Importing this package is cheap: libcst is imported on the first call (only the inject route and
the CLI need it).
"""

from __future__ import annotations

from quantlink.injection.markers import MARKER, TOKEN_PLACEHOLDER, URL_PLACEHOLDER
from quantlink.injection.results import CheckResult, InjectionResult, InjectionSyntaxError

__all__ = [
    "MARKER",
    "TOKEN_PLACEHOLDER",
    "URL_PLACEHOLDER",
    "CheckResult",
    "InjectionResult",
    "InjectionSyntaxError",
    "check",
    "inject",
    "sender_block",
    "strip",
]


def inject(code: str, *, webhook_url: str, token: str, send_in_backtest: bool = False) -> InjectionResult:
    """Injects (or re-injects: earlier injections are stripped first) the QuantLink sender."""
    from quantlink.injection import api

    return api.inject(code, webhook_url=webhook_url, token=token, send_in_backtest=send_in_backtest)


def strip(code: str) -> str:
    """Removes what `inject` added; `strip(inject(code).code) == code` byte for byte."""
    from quantlink.injection import api

    return api.strip(code)


def sender_block(*, webhook_url: str, token: str, send_in_backtest: bool = False) -> str:
    """The sender alone, as `inject` inserts it, for manual integration (docs/INJECTION.md)."""
    from quantlink.injection import api

    return api.sender_block(webhook_url=webhook_url, token=token, send_in_backtest=send_in_backtest)


def check(code: str, *, webhook_url: str | None = None) -> CheckResult:
    """Whether `code` is injected, and whether injecting again would change it."""
    from quantlink.injection import api

    return api.check(code, webhook_url=webhook_url)
