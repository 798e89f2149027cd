"""The agent's config file (TOML or JSON), read once and validated into typed settings."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from datetime import time
from typing import Any, Mapping

from quantlink_terminal.executors.paper import PaperSettings
from quantlink_terminal.executors.qmt import QmtSettings
from quantlink_terminal.report import DEFAULT_AFTER_CLOSE
from quantlink_terminal.sizing import SizingError, SizingRule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on the Python QMT ships with
    import tomli as tomllib

EXECUTORS = ("paper", "xtquant")


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


def _resolve(base_dir: str, path: str) -> str:
    """Relative paths are relative to the config file, not to wherever the agent was started from."""
    return path if os.path.isabs(path) else os.path.join(base_dir, path)


def _clock_time(text: str, where: str) -> time:
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise ConfigError(f"`after_close` in {where} must look like 15:05, got {text!r}") from exc


def load_config(path: str) -> AgentConfig:
    data = _read(path)
    base_dir = os.path.dirname(os.path.abspath(path))
    where = os.path.basename(path)
    api_base = str(_get(data, "api_base", str, where, required=True)).rstrip("/")
    if not api_base.startswith(("https://", "http://")):
        raise ConfigError(f"`api_base` in {where} must start with https:// (got {api_base!r})")
    executor = _get(data, "executor", str, where, default="xtquant")
    if executor not in EXECUTORS:
        raise ConfigError(f"`executor` in {where} must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    fingerprint = _get(data, "device_fingerprint", str, where) or None
    if fingerprint is not None and not 8 <= len(fingerprint) <= 128:
        raise ConfigError(f"`device_fingerprint` in {where} must be 8 to 128 characters long")

    sizing_table = _get(data, "sizing", dict, where, default={})
    try:
        sizing = SizingRule(
            mode=_get(sizing_table, "mode", str, f"[sizing] of {where}", default="ratio"),
            multiplier=float(
                _get(sizing_table, "multiplier", (int, float), f"[sizing] of {where}", default=1.0)
            ),
            on_insufficient_cash=_get(
                sizing_table, "on_insufficient_cash", str, f"[sizing] of {where}", default="shrink"
            ),
            market_buy_buffer=float(
                _get(sizing_table, "market_buy_buffer", (int, float), f"[sizing] of {where}", default=0.01)
            ),
        )
    except SizingError as exc:
        raise ConfigError(f"[sizing] of {where}: {exc}") from exc

    report_table = _get(data, "report", dict, where, default={})
    after_close: time | None = DEFAULT_AFTER_CLOSE
    if _get(report_table, "enabled", bool, f"[report] of {where}", default=True) is False:
        after_close = None
    elif "after_close" in report_table:
        after_close = _clock_time(_get(report_table, "after_close", str, f"[report] of {where}"), where)

    return AgentConfig(
        path=path,
        api_base=api_base,
        auth_token=_get(data, "auth_token", str, where, required=True),
        executor=executor,
        journal_path=_resolve(
            base_dir, _get(data, "journal", str, where, default="quantlink-journal.sqlite3")
        ),
        sizing=sizing,
        device_fingerprint=fingerprint,
        terminal_id=_get(data, "terminal_id", str, where),
        report_after_close=after_close,
        paper=_paper(data, base_dir, where) if executor == "paper" else None,
        xtquant=_xtquant(data, where) if executor == "xtquant" else None,
    )


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
    return QmtSettings(
        userdata_path=_get(table, "userdata_path", str, section, required=True),
        account_id=str(account_id),
        account_type=_get(table, "account_type", str, section, default="STOCK"),
        session_id=_get(table, "session_id", int, section),
        order_timeout=float(_get(table, "order_timeout", (int, float), section, default=30.0)),
    )
