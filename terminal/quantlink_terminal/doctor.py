"""`quantlink-terminal doctor`: check everything the agent needs, each problem with a plain-language fix.

Token and device binding are checked with an ack for a made-up signal, not with a pull: a pull, even with
`wait=0&max=1`, takes a live signal off the queue, which then waits out the visibility timeout (and may
expire) before the real agent sees it. The probe ack is authenticated and device-checked like any ack and
matches no signal, so it changes nothing. It does not claim an unbound device: the first `run` does.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Callable, TextIO

from quantlink_terminal.agent import AgentSettings, device_taken_over_message, unauthorized_message
from quantlink_terminal.client import ApiError, DeviceTakenOver, QuantLinkClient, TransientError, Unauthorized
from quantlink_terminal.config import AgentConfig, ConfigError, load_config
from quantlink_terminal.executors.base import Executor, ExecutorUnavailable
from quantlink_terminal.fingerprint import device_fingerprint
from quantlink_terminal.journal import Journal
from quantlink_terminal.models import REJECTED
from quantlink_terminal.pause import PauseSwitch
from quantlink_terminal.ptrade.settings import default_fingerprint

PROBE_SIGNAL_ID = "doctor-probe"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


def check_config(path: str) -> tuple[AgentConfig | None, Check]:
    try:
        config = load_config(path)
    except ConfigError as exc:
        return None, Check(
            "config",
            False,
            str(exc),
            "Edit the config file (`quantlink-terminal init --config example.toml` writes one that lists and "
            "explains every setting).",
        )
    return config, Check("config", True, f"{path}: executor {config.executor}, API {config.api_base}")


def check_risk(config: AgentConfig) -> Check:
    """Informational: which of the trader's own limits are on, and whether trading is paused."""
    limits = config.risk
    on = [
        f"{name} {value:g}"
        for name, value in (
            ("max_order_value", limits.max_order_value),
            ("max_daily_buy_value", limits.max_daily_buy_value),
            ("max_position_share", limits.max_position_share),
            ("max_price_deviation", limits.max_price_deviation),
        )
        if value is not None
    ]
    on += [f"{name} {list(value)}" for name, value in (
        ("allowed_securities", limits.allowed_securities), ("blocked_securities", limits.blocked_securities),
    ) if value]  # fmt: skip
    if limits.trading_hours_only:
        on.append("trading_hours_only")
    paused = PauseSwitch(config.pause_file).state()
    detail = ", ".join(on) or "no limits set"
    if paused is not None:
        until = "every signal is refused until `quantlink-terminal resume`"
        detail += f"; PAUSED ({config.pause_file} exists): {until}"
    return Check("risk guards", True, detail)


def check_journal(config: AgentConfig) -> Check:
    try:
        Journal(config.journal_path).close()
    except sqlite3.Error as exc:
        return Check(
            "journal",
            False,
            f"cannot open {config.journal_path}: {exc}",
            "Point `journal` at a file in a folder this user can write to.",
        )
    return Check("journal", True, config.journal_path)


def check_api(client: QuantLinkClient, config: AgentConfig) -> Check:
    try:
        body = client.health()
    except ApiError as exc:
        return Check(
            "API reachable",
            False,
            str(exc),
            f"Check `api_base` ({config.api_base}), this PC's internet connection, and the proxy "
            "(set HTTPS_PROXY if your network needs one).",
        )
    return Check("API reachable", True, f"{config.api_base}/api/health says {body.get('status', body)!r}")


def check_token_and_device(client: QuantLinkClient, config: AgentConfig, fingerprint: str) -> Check:
    settings = AgentSettings(terminal_id=config.terminal_id, config_path=config.path)
    probe = {
        "signalId": PROBE_SIGNAL_ID,
        "ackToken": PROBE_SIGNAL_ID,
        "status": REJECTED,
        "error": "quantlink-terminal doctor connectivity probe",
    }
    try:
        client.ack([probe])
    except Unauthorized:
        return Check(
            "token", False, "the server refused the auth token (401)", unauthorized_message(settings)
        )
    except DeviceTakenOver as exc:
        return Check(
            "device binding",
            False,
            f"this PC ({fingerprint}) is not the terminal's device",
            device_taken_over_message(settings, exc.message),
        )
    except TransientError as exc:
        return Check("token", False, f"could not ask the server: {exc}", "Fix the API check above first.")
    except ApiError as exc:
        return Check(
            "token",
            False,
            f"unexpected answer: {exc}",
            "Check `api_base`; if it is right, report this message to the QuantLink owner.",
        )
    return Check("token and device", True, f"token accepted; device {fingerprint} may run this terminal")


def check_executor(build: Callable[[AgentConfig], Executor], config: AgentConfig) -> Check:
    name = f"{config.executor} executor"
    try:
        executor = build(config)
        executor.connect()
        try:
            account = executor.account()
        finally:
            executor.close()
    except ExecutorUnavailable as exc:
        return Check(name, False, str(exc), exc.fix)
    return Check(
        name,
        True,
        f"cash {account.cash:.2f}, total asset {account.total_asset:.2f}, "
        f"{len(account.holdings)} position(s)",
    )


def check_ptrade(config: AgentConfig) -> Check:
    """Informational: a PTrade terminal's executor, journal and log are inside PTrade."""
    prefix = config.ptrade.files_prefix if config.ptrade is not None else "quantlink"
    return Check(
        "PTrade",
        True,
        "this terminal runs inside PTrade: generate its script with `quantlink-terminal ptrade-script` and "
        f"paste it into PTrade; its journal ({prefix}-journal.jsonl) is in PTrade's research folder, and "
        "whether PTrade may reach the API shows in the trade's log (this PC's checks above cannot tell)",
    )


def run_doctor(path: str, build_executor: Callable[[AgentConfig], Executor], out: TextIO) -> int:
    """Print each check; 0 when all pass."""
    config, config_check = check_config(path)
    checks: list[Check] = [config_check]
    if config is not None:
        if config.ptrade is not None:
            fingerprint = config.device_fingerprint or default_fingerprint(
                config.terminal_id, config.auth_token
            )
        else:
            fingerprint = device_fingerprint(config.device_fingerprint)
            checks.append(check_journal(config))
        client = QuantLinkClient(config.api_base, config.auth_token, fingerprint)
        checks.append(check_risk(config))
        api = check_api(client, config)
        checks.append(api)
        if api.ok:
            checks.append(check_token_and_device(client, config, fingerprint))
        if config.ptrade is not None:
            checks.append(check_ptrade(config))
        else:
            checks.append(check_executor(build_executor, config))
    for check in checks:
        out.write(f"[{' ok ' if check.ok else 'FAIL'}] {check.name}: {check.detail}\n")
        if check.fix:
            out.write(f"       fix: {check.fix}\n")
    failed = [check for check in checks if not check.ok]
    out.write(("all checks passed" if not failed else f"{len(failed)} check(s) failed") + "\n")
    return 0 if not failed else 1
