"""What the injection API answers, and its one domain error. No libcst here: cheap to import."""

from __future__ import annotations

from dataclasses import dataclass, field

from quantlink.errors import ValidationFailed


@dataclass(frozen=True)
class InjectionResult:
    code: str
    injected: int  # order call sites reported
    warnings: list[str] = field(default_factory=list)  # each names its line: "line 12: ..."


@dataclass(frozen=True)
class CheckResult:
    injected: bool  # the code carries a QuantLink injection
    stale: bool  # injecting again would change it (code edited since, other URL, older runtime)
    reasons: list[str] = field(default_factory=list)  # why it is not injected / stale
    webhook_url: str | None = None  # where the injected code sends
    token_is_placeholder: bool = False  # TOKEN_PLACEHOLDER still stands where the token should be
    send_in_backtest: bool = False
    url_is_placeholder: bool = False  # URL_PLACEHOLDER still stands where the webhook URL should be
    # Why the code, injected or not, cannot send anything yet (a placeholder where a setting belongs).
    cannot_send: list[str] = field(default_factory=list)

    @property
    def can_send(self) -> bool:
        return not self.cannot_send

    @property
    def ok(self) -> bool:
        """Injected, up to date, and able to send: what `quantlink inject --check` exits 0 for."""
        return self.injected and not self.stale and self.can_send


class InjectionSyntaxError(ValidationFailed):
    """The strategy code does not parse: the API answers 400 VALIDATION_ERROR with the line."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.reason = message
        super().__init__(f"line {line}: {message}", details=[{"field": "code", "message": message, "line": line}])
