"""Why a signal was not executed (or only partly), in the trader's two languages.

Every refusal the agent makes carries a stable `code` (for the activity log, `status` and support) and the
same sentence in English and Simplified Chinese; the ack's `error` is both, so the strategy owner's timeline
shows it too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str  # e.g. risk.max_order_value, sizing.insufficient_cash, expired
    en: str
    zh: str

    def text(self) -> str:
        return f"{self.en} | {self.zh}"


def money(value: float) -> str:
    return f"{value:,.2f}"
