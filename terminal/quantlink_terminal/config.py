"""The agent's config file (TOML or JSON), read once and validated into typed settings.

Strict on purpose: a misspelt setting (`mdoe`, `[papr]`, `excutor`) would otherwise be ignored silently and
the agent would trade with a default the trader never chose, so every unknown key is an error that names
the closest known one.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import time
from typing import Any, Iterable, Mapping
from urllib.parse import urlparse

from quantlink_terminal.executors.paper import PaperSettings
from quantlink_terminal.executors.qmt import ACCOUNT_TYPES, QmtSettings
from quantlink_terminal.polling import PollingSettings
from quantlink_terminal.ptrade.settings import PTradeSettings
from quantlink_terminal.report import DEFAULT_AFTER_CLOSE
from quantlink_terminal.risk import RiskConfigError, RiskLimits, security_pattern
from quantlink_terminal.sizing import CASH_POLICIES, MODES, SizingError, SizingRule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on the Python QMT ships with
    import tomli as tomllib

EXECUTORS = ("paper", "xtquant", "ptrade")
TOP_LEVEL = (
    "api_base",
    "auth_token",
    "terminal_id",
    "device_fingerprint",
    "executor",
    "journal",
    "activity_log",
)
SECTIONS: dict[str, tuple[str, ...]] = {
    "sizing": (
        "mode", "multiplier", "on_insufficient_cash", "market_buy_buffer",
        "commission_rate", "min_commission",
    ),
    "risk": (
        "max_order_value", "max_daily_buy_value", "max_position_share", "allowed_securities",
        "blocked_securities", "max_price_deviation", "trading_hours_only", "pause_file",
    ),
    "polling": ("active_wait", "idle_interval", "push", "push_pull_interval", "push_idle_pull_interval"),
    "xtquant": ("userdata_path", "account_id", "account_type", "session_id", "order_timeout", "call_timeout"),
    "paper": ("state_file", "initial_cash", "prices"),
    "report": ("enabled", "after_close"),
    "ptrade": ("poll_seconds", "order_timeout", "order_poll", "http_timeout", "files_prefix"),
}  # fmt: skip
DEFAULT_PAUSE_FILE = "quantlink-paused"
DEFAULT_ACTIVITY_LOG = "quantlink-activity.jsonl"


class ConfigError(ValueError):
    """The config file is missing, unreadable or wrong; the message says what to change."""


@dataclass(frozen=True)
class AgentConfig:
    path: str
    api_base: str
    auth_token: str
    executor: str
    journal_path: str
    sizing: SizingRule
    device_fingerprint: str | None = None
    terminal_id: str | None = None
    report_after_close: time | None = DEFAULT_AFTER_CLOSE
    paper: PaperSettings | None = None
    xtquant: QmtSettings | None = None
    risk: RiskLimits = field(default_factory=RiskLimits)
    pause_file: str = DEFAULT_PAUSE_FILE
    activity_log: str | None = None
    polling: PollingSettings = field(default_factory=PollingSettings)
    ptrade: PTradeSettings | None = None  # executor "ptrade": the settings of the generated PTrade script


def did_you_mean(word: str, choices: Iterable[str], quote: str = "`{}`") -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {quote.format(close[0])}?" if close else ""


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror}") from exc
    try:
        if path.lower().endswith(".json"):
            data = json.loads(raw.decode("utf-8-sig"))  # Notepad saves UTF-8 with a BOM
        else:
            data = tomllib.loads(raw.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path} is not valid {'JSON' if path.endswith('.json') else 'TOML'}: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a table of settings")
    return data


def _reject_unknown(data: Mapping[str, Any], where: str) -> None:
    for key, value in data.items():
        if key in TOP_LEVEL or key in SECTIONS:
            continue
        if isinstance(value, dict):
            hint = did_you_mean(key, SECTIONS, "[{}]")
            raise ConfigError(f"unknown section [{key}] in {where}{hint}")
        raise ConfigError(
            f"unknown setting `{key}` in {where}{did_you_mean(key, TOP_LEVEL + tuple(SECTIONS))}"
        )
    for section, allowed in SECTIONS.items():
        table = data.get(section)
        if not isinstance(table, dict):
            continue
        for key in table:
            if key not in allowed:
                raise ConfigError(
                    f"unknown setting `{key}` in [{section}] of {where}{did_you_mean(key, allowed)}"
                )


def _get(
    table: Mapping[str, Any],
    key: str,
    kind: type | tuple[type, ...],
    where: str,
    default: Any = None,
    required: bool = False,
) -> Any:
    value = table.get(key, default)
    if value is None:
        if required:
            raise ConfigError(f"missing `{key}` in {where}")
        return None
    # bool is an int in Python, but `true` where a number belongs is a mistake, not a 1.
    mistaken_bool = isinstance(value, bool) and kind is not bool
    if mistaken_bool or not isinstance(value, kind):
        raise ConfigError(f"`{key}` in {where} has the wrong type: {value!r}")
    return value


def _number(table: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float | None:
    value = _get(table, key, (int, float), where, default=default)
    return None if value is None else float(value)


def _choice(value: str, choices: tuple[str, ...], key: str, where: str) -> str:
    if value not in choices:
        raise ConfigError(
            f"`{key}` in {where} must be one of {', '.join(choices)}, got {value!r}"
            + did_you_mean(value, choices, '"{}"')
        )
    return value


def _resolve(base_dir: str, path: str) -> str:
    """Relative paths are relative to the config file, not to wherever the agent was started from."""
    return path if os.path.isabs(path) else os.path.join(base_dir, path)


def _clock_time(text: str, where: str) -> time:
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise ConfigError(f"`after_close` in {where} must look like 15:05, got {text!r}") from exc


def _api_base(data: Mapping[str, Any], where: str) -> str:
    api_base = str(_get(data, "api_base", str, where, required=True)).rstrip("/")
    if not api_base.startswith(("https://", "http://")):
        raise ConfigError(f"`api_base` in {where} must start with https:// (got {api_base!r})")
    if urlparse(api_base).path.endswith("/api"):
        raise ConfigError(
            f"`api_base` in {where} ends with /api ({api_base!r}): write the address without it, "
            f'api_base = "{api_base[: -len("/api")]}" (the agent adds /api/terminals/... itself)'
        )
    return api_base


def load_config(path: str) -> AgentConfig:
    data = _read(path)
    base_dir = os.path.dirname(os.path.abspath(path))
    where = os.path.basename(path)
    _reject_unknown(data, where)
    executor = _choice(_get(data, "executor", str, where, default="xtquant"), EXECUTORS, "executor", where)
    fingerprint = _get(data, "device_fingerprint", str, where) or None
    if fingerprint is not None and not 8 <= len(fingerprint) <= 128:
        raise ConfigError(f"`device_fingerprint` in {where} must be 8 to 128 characters long")

    report_table = _get(data, "report", dict, where, default={})
    after_close: time | None = DEFAULT_AFTER_CLOSE
    if _get(report_table, "enabled", bool, f"[report] of {where}", default=True) is False:
        after_close = None
    elif "after_close" in report_table:
        after_close = _clock_time(_get(report_table, "after_close", str, f"[report] of {where}"), where)

    risk_table = _get(data, "risk", dict, where, default={})
    activity_log = _get(data, "activity_log", str, where, default=DEFAULT_ACTIVITY_LOG)
    return AgentConfig(
        path=path,
        api_base=_api_base(data, where),
        auth_token=_get(data, "auth_token", str, where, required=True),
        executor=executor,
        journal_path=_resolve(
            base_dir, _get(data, "journal", str, where, default="quantlink-journal.sqlite3")
        ),
        sizing=_sizing(data, where),
        device_fingerprint=fingerprint,
        terminal_id=_get(data, "terminal_id", str, where),
        report_after_close=after_close,
        paper=_paper(data, base_dir, where) if executor == "paper" else None,
        xtquant=_xtquant(data, where) if executor == "xtquant" else None,
        # Outside trading hours a broker may queue an order for the next open: on by default for real orders.
        risk=_risk(risk_table, where, trading_hours_default=executor in ("xtquant", "ptrade")),
        pause_file=_resolve(
            base_dir, _get(risk_table, "pause_file", str, f"[risk] of {where}", default=DEFAULT_PAUSE_FILE)
        ),
        activity_log=_resolve(base_dir, activity_log) if activity_log else None,
        polling=_polling(data, where),
        ptrade=_ptrade(data, where) if executor == "ptrade" else None,
    )


def _sizing(data: Mapping[str, Any], where: str) -> SizingRule:
    table = _get(data, "sizing", dict, where, default={})
    section = f"[sizing] of {where}"
    defaults = SizingRule()
    try:
        return SizingRule(
            mode=_choice(_get(table, "mode", str, section, default=defaults.mode), MODES, "mode", section),
            multiplier=float(_get(table, "multiplier", (int, float), section, default=defaults.multiplier)),
            on_insufficient_cash=_choice(
                _get(table, "on_insufficient_cash", str, section, default=defaults.on_insufficient_cash),
                CASH_POLICIES,
                "on_insufficient_cash",
                section,
            ),
            market_buy_buffer=float(
                _get(table, "market_buy_buffer", (int, float), section, default=defaults.market_buy_buffer)
            ),
            commission_rate=float(
                _get(table, "commission_rate", (int, float), section, default=defaults.commission_rate)
            ),
            min_commission=float(
                _get(table, "min_commission", (int, float), section, default=defaults.min_commission)
            ),
        )
    except SizingError as exc:
        raise ConfigError(f"{section}: {exc}") from exc


def _risk(table: Mapping[str, Any], where: str, trading_hours_default: bool) -> RiskLimits:
    section = f"[risk] of {where}"

    def limit(key: str) -> float | None:
        value = _number(table, key, section)
        return value or None  # 0 switches a guard off, like leaving it out

    def securities(key: str) -> tuple[str, ...]:
        entries = _get(table, key, list, section, default=[])
        if not all(isinstance(entry, str) for entry in entries):
            raise ConfigError(f"`{key}` in {section} must be a list of security codes")
        return tuple(security_pattern(entry) for entry in entries)

    try:
        return RiskLimits(
            max_order_value=limit("max_order_value"),
            max_daily_buy_value=limit("max_daily_buy_value"),
            max_position_share=limit("max_position_share"),
            allowed_securities=securities("allowed_securities"),
            blocked_securities=securities("blocked_securities"),
            max_price_deviation=limit("max_price_deviation"),
            trading_hours_only=_get(
                table, "trading_hours_only", bool, section, default=trading_hours_default
            ),
        )
    except RiskConfigError as exc:
        raise ConfigError(f"{section}: {exc}") from exc


def _polling(data: Mapping[str, Any], where: str) -> PollingSettings:
    table = _get(data, "polling", dict, where, default={})
    section = f"[polling] of {where}"
    defaults = PollingSettings()
    try:
        return PollingSettings(
            active_wait=_get(table, "active_wait", int, section, default=defaults.active_wait),
            idle_interval=float(
                _get(table, "idle_interval", (int, float), section, default=defaults.idle_interval)
            ),
            push=_get(table, "push", bool, section, default=defaults.push),
            push_pull_interval=float(
                _get(table, "push_pull_interval", (int, float), section, default=defaults.push_pull_interval)
            ),
            push_idle_pull_interval=float(
                _get(
                    table,
                    "push_idle_pull_interval",
                    (int, float),
                    section,
                    default=defaults.push_idle_pull_interval,
                )
            ),
        )
    except ValueError as exc:
        raise ConfigError(f"{section}: {exc}") from exc


def _ptrade(data: Mapping[str, Any], where: str) -> PTradeSettings:
    table = _get(data, "ptrade", dict, where, default={})
    section = f"[ptrade] of {where}"
    defaults = PTradeSettings()
    try:
        return PTradeSettings(
            poll_seconds=_get(table, "poll_seconds", int, section, default=defaults.poll_seconds),
            order_timeout=float(
                _get(table, "order_timeout", (int, float), section, default=defaults.order_timeout)
            ),
            order_poll=float(_get(table, "order_poll", (int, float), section, default=defaults.order_poll)),
            http_timeout=float(
                _get(table, "http_timeout", (int, float), section, default=defaults.http_timeout)
            ),
            files_prefix=_get(table, "files_prefix", str, section, default=defaults.files_prefix),
        )
    except ValueError as exc:
        raise ConfigError(f"{section}: {exc}") from exc


def _paper(data: Mapping[str, Any], base_dir: str, where: str) -> PaperSettings:
    table = _get(data, "paper", dict, where, default={})
    section = f"[paper] of {where}"
    prices = _get(table, "prices", dict, section, default={})
    for code, _price in prices.items():
        _get(prices, code, (int, float), f"[paper.prices] of {where}")
    return PaperSettings(
        state_file=_resolve(base_dir, _get(table, "state_file", str, section, default="paper-account.json")),
        initial_cash=float(_get(table, "initial_cash", (int, float), section, default=1_000_000.0)),
        prices={str(code).upper(): float(price) for code, price in prices.items()},
    )


def _xtquant(data: Mapping[str, Any], where: str) -> QmtSettings:
    table = _get(data, "xtquant", dict, where, required=True)
    section = f"[xtquant] of {where}"
    account_id = _get(table, "account_id", (str, int), section, required=True)
    account_type = _get(table, "account_type", str, section, default="STOCK").upper()
    if account_type not in ACCOUNT_TYPES:
        raise ConfigError(
            f"`account_type` in {section} must be {' or '.join(ACCOUNT_TYPES)} (a cash stock account): the "
            f"agent places STOCK_BUY / STOCK_SELL orders, which a {account_type!r} account cannot take"
            + did_you_mean(account_type, ACCOUNT_TYPES, '"{}"')
        )
    order_timeout = _number(table, "order_timeout", section, default=30.0)
    call_timeout = _number(table, "call_timeout", section, default=10.0)
    assert order_timeout is not None and call_timeout is not None
    if not 1 <= call_timeout <= 120:
        raise ConfigError(f"`call_timeout` in {section} must be 1 to 120 seconds, got {call_timeout:g}")
    return QmtSettings(
        userdata_path=_get(table, "userdata_path", str, section, required=True),
        account_id=str(account_id),
        account_type=account_type,
        session_id=_get(table, "session_id", int, section),
        order_timeout=order_timeout,
        call_timeout=call_timeout,
    )
