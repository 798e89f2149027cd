"""What the PTrade script is generated with: the terminal's API address and token, the trader's sizing and
risk limits, and PTrade's own settings. The script carries them as a plain JSON-like payload (to_payload),
rebuilt into the same typed settings inside PTrade (from_payload), whose constructors validate them again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from datetime import time
from typing import Any, Mapping

from quantlink_terminal.risk import RiskLimits
from quantlink_terminal.sizing import SizingRule

PAYLOAD_VERSION = 1
_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


@dataclass(frozen=True)
class PTradeSettings:
    poll_seconds: int = (
        5  # run_interval's period: how often the script asks QuantLink (PTrade's minimum is 3)
    )
    order_timeout: float = 30.0  # how long to wait for an order's final status before acking what is known
    order_poll: float = 1.0  # seconds between two get_order() checks while waiting
    http_timeout: float = 10.0  # the longest wait for one answer from QuantLink
    files_prefix: str = (
        "quantlink"  # names of the journal, activity log and pause file in the research folder
    )

    def __post_init__(self) -> None:
        if not 3 <= self.poll_seconds <= 60:
            raise ValueError(
                f"poll_seconds must be 3 to 60 seconds (PTrade's minimum is 3), got {self.poll_seconds!r}"
            )
        if not 1 <= self.order_timeout <= 120:
            raise ValueError(f"order_timeout must be 1 to 120 seconds, got {self.order_timeout!r}")
        if not 0.1 <= self.order_poll <= 10:
            raise ValueError(f"order_poll must be 0.1 to 10 seconds, got {self.order_poll!r}")
        if not 1 <= self.http_timeout <= 60:
            raise ValueError(f"http_timeout must be 1 to 60 seconds, got {self.http_timeout!r}")
        if not _PREFIX.match(self.files_prefix):
            raise ValueError(
                f"files_prefix must be 1 to 40 letters, digits, - or _, got {self.files_prefix!r}"
            )


def default_fingerprint(terminal_id: str | None, auth_token: str) -> str:
    """The device fingerprint the script sends: stable across PTrade restarts and across regenerating the
    script, unlike any fact of the broker's server (which may move the strategy to another machine)."""
    material = terminal_id or auth_token
    return "ptrade-" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def _clock_text(moment: time | None) -> str | None:
    return None if moment is None else moment.strftime("%H:%M")


def _clock_time(text: str | None) -> time | None:
    if text is None:
        return None
    hours, _, minutes = str(text).partition(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class ScriptSettings:
    api_base: str
    auth_token: str
    device_fingerprint: str
    terminal_id: str | None
    sizing: SizingRule
    risk: RiskLimits
    ptrade: PTradeSettings
    report_after_close: time | None = time(15, 5)

    def to_payload(self) -> dict[str, Any]:
        risk = asdict(self.risk)
        for key in ("allowed_securities", "blocked_securities"):
            risk[key] = list(risk[key])
        return {
            "v": PAYLOAD_VERSION,
            "apiBase": self.api_base,
            "authToken": self.auth_token,
            "deviceFingerprint": self.device_fingerprint,
            "terminalId": self.terminal_id,
            "sizing": asdict(self.sizing),
            "risk": risk,
            "ptrade": asdict(self.ptrade),
            "reportAfterClose": _clock_text(self.report_after_close),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ScriptSettings:
        """Raises ValueError (or KeyError/TypeError) for a payload this version cannot read."""
        if payload.get("v") != PAYLOAD_VERSION:
            raise ValueError(f"settings version {payload.get('v')!r}, this script reads {PAYLOAD_VERSION}")
        risk = dict(payload["risk"])
        for key in ("allowed_securities", "blocked_securities"):
            risk[key] = tuple(risk.get(key) or ())
        return cls(
            api_base=str(payload["apiBase"]),
            auth_token=str(payload["authToken"]),
            device_fingerprint=str(payload["deviceFingerprint"]),
            terminal_id=payload.get("terminalId"),
            sizing=SizingRule(**payload["sizing"]),
            risk=RiskLimits(**risk),
            ptrade=PTradeSettings(**payload["ptrade"]),
            report_after_close=_clock_time(payload.get("reportAfterClose")),
        )
