"""The `quantlink-terminal` command: init, run, status, pause, resume, report, doctor, ptrade-script."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from types import FrameType
from typing import Callable, Mapping

from quantlink_terminal import __version__
from quantlink_terminal.agent import Agent, AgentFatal
from quantlink_terminal.calendar import market_calendar
from quantlink_terminal.client import ApiError
from quantlink_terminal.clock import system_clock
from quantlink_terminal.config import EXECUTORS, AgentConfig, ConfigError, load_config
from quantlink_terminal.doctor import run_doctor
from quantlink_terminal.execution import OutcomeHook
from quantlink_terminal.executors.base import ExecutorUnavailable
from quantlink_terminal.initconfig import InitError, render_config, write_config
from quantlink_terminal.journal import Journal
from quantlink_terminal.pause import PauseSwitch
from quantlink_terminal.ptrade.script import ScriptError, script_settings, write_ptrade_script
from quantlink_terminal.report import HoldingsReporter
from quantlink_terminal.status import build_status, render, write_json
from quantlink_terminal.wiring import build_activity, build_agent, build_client, build_executor

EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130
# Test-only: make the agent die right after the journal records an outcome and before the ack, the
# window the e2e test must prove safe. Nobody sets this in production.
CRASH_AFTER_OUTCOME_ENV = "QUANTLINK_TERMINAL_TEST_CRASH_AFTER_OUTCOME"
CRASH_EXIT_CODE = 86

log = logging.getLogger("quantlink_terminal")


def crash_hook(environ: Mapping[str, str]) -> OutcomeHook | None:
    if environ.get(CRASH_AFTER_OUTCOME_ENV) != "1":
        return None

    def crash(signal_id: str) -> None:
        sys.stderr.write(f"{CRASH_AFTER_OUTCOME_ENV}: dying before acking {signal_id}\n")
        sys.stderr.flush()
        if hasattr(signal, "SIGKILL"):
            os.kill(os.getpid(), signal.SIGKILL)  # a real kill: no cleanup, no finally, no atexit
        os._exit(CRASH_EXIT_CODE)  # Windows has no SIGKILL

    return crash


def _install_stop_handlers(agent: Agent) -> None:
    def on_stop(_signum: int, _frame: FrameType | None) -> None:
        if agent.stopping:
            raise KeyboardInterrupt  # a second Ctrl-C: quit now; the journal still prevents re-execution
        log.info("stopping after the signal in hand (Ctrl-C again to quit at once)")
        agent.request_stop()

    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGTERM, on_stop)
    if hasattr(signal, "SIGBREAK"):  # Ctrl-Break and closing the console window on Windows
        signal.signal(signal.SIGBREAK, on_stop)


def _run(config: AgentConfig, args: argparse.Namespace) -> int:
    journal = Journal(config.journal_path)
    activity = build_activity(config)
    try:
        agent = build_agent(
            config,
            journal,
            build_executor(config),
            after_outcome_recorded=crash_hook(os.environ),
            activity=activity,
        )
        _install_stop_handlers(agent)
        log.info("quantlink-terminal %s: %s executor, API %s", __version__, config.executor, config.api_base)
        activity.started(__version__, config.executor, config.api_base)
        if PauseSwitch(config.pause_file).state() is not None:
            log.warning(
                "trading is paused (%s exists): signals are refused until `resume`", config.pause_file
            )
        agent.run()
    except AgentFatal as exc:
        log.error("%s", exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        # The second Ctrl-C: whatever was in hand is in the journal and is reconciled on the next start.
        log.warning("interrupted; the next start picks up from the journal")
        return EXIT_INTERRUPTED
    finally:
        activity.stopped()
        journal.close()
    log.info("stopped")
    return 0


def _report(config: AgentConfig, args: argparse.Namespace) -> int:
    executor = build_executor(config)
    journal = Journal(config.journal_path)
    try:
        executor.connect()
        report = HoldingsReporter(build_client(config), executor, journal).report_now()
    except ExecutorUnavailable as exc:
        log.error("%s. %s", exc, exc.fix)
        return 1
    except ApiError as exc:
        log.error("posting the holdings failed: %s (run `quantlink-terminal doctor` to find out why)", exc)
        return 1
    finally:
        executor.close()
        journal.close()
    print(
        f"reported {len(report['positions'])} position(s), cash {report['cash']:.2f}, "
        f"total asset {report['totalAsset']:.2f} as of {report['asOf']}"
    )
    return 0


def _status(config: AgentConfig, args: argparse.Namespace) -> int:
    if not os.path.exists(config.journal_path):
        print(f"no journal at {config.journal_path} yet: the agent has not run with this config")
        return 0
    report = build_status(
        config.journal_path,
        PauseSwitch(config.pause_file),
        market_calendar(),
        system_clock(),
        limit=args.limit,
    )
    (write_json if args.json else render)(report, sys.stdout)
    return 0


def _pause(config: AgentConfig, args: argparse.Namespace) -> int:
    PauseSwitch(config.pause_file).pause(args.reason, system_clock())
    build_activity(config).note("paused", reason=args.reason)
    print(
        f"trading paused ({config.pause_file}): the agent refuses every signal until "
        "`quantlink-terminal resume` | 已暂停交易，恢复请运行 quantlink-terminal resume"
    )
    return 0


def _resume(config: AgentConfig, args: argparse.Namespace) -> int:
    was_paused = PauseSwitch(config.pause_file).resume()
    if was_paused:
        build_activity(config).note("resumed")
    print("trading resumed | 已恢复交易" if was_paused else "trading was not paused | 当前未暂停")
    return 0


def _init(args: argparse.Namespace) -> int:
    try:
        text = render_config(args.api_base, args.token, args.executor, args.terminal_id)
        write_config(args.config, text, force=args.force)
    except InitError as exc:
        log.error("%s", exc)
        return 1
    print(
        f"wrote {args.config}: fill in the settings it marks, then check them with "
        f"`quantlink-terminal doctor --config {args.config}`"
    )
    return 0


PTRADE_RUNS_IN_PTRADE = (
    'executor = "ptrade" runs inside PTrade, not on this PC: generate its script with '
    "`quantlink-terminal ptrade-script --config {config} -o quantlink_ptrade.py` and paste it into a "
    "PTrade strategy (terminal/README.md, PTrade). Its journal, activity log and pause file "
    "({prefix}-paused) are in PTrade's research folder (研究), and its log in the trade's log panel."
)


def _ptrade_script(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        write_ptrade_script(script_settings(config), args.output, force=args.force)
    except (ConfigError, ScriptError) as exc:
        log.error("%s", exc)
        return EXIT_CONFIG
    terminal = config.terminal_id or "(id not set)"
    print(
        f"wrote {args.output} for terminal {terminal} (API {config.api_base}): paste it into a new PTrade "
        "strategy and start a trade with it. It holds the terminal's token: keep it private."
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quantlink-terminal", description="Carry QuantLink signals to your miniQMT account."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    init = commands.add_parser("init", help="write a commented config file to fill in")
    init.add_argument("--config", "-c", default="config.toml", help="where to write it (default config.toml)")
    init.add_argument("--api-base", help="your QuantLink API address (without /api)")
    init.add_argument("--token", help="the terminal's auth token")
    init.add_argument("--terminal-id", help="the terminal's id")
    init.add_argument("--executor", choices=EXECUTORS, help="xtquant (real orders) or paper (simulated)")
    init.add_argument("--force", action="store_true", help="replace an existing file")
    init.add_argument("--verbose", "-v", action="store_true", help="log debugging detail")
    script = commands.add_parser(
        "ptrade-script", help='write the PTrade strategy script of a PTrade terminal (executor = "ptrade")'
    )
    script.add_argument("--config", "-c", required=True, help="the terminal's config file (executor ptrade)")
    script.add_argument("--output", "-o", default="quantlink_ptrade.py", help="where to write the script")
    script.add_argument("--force", action="store_true", help="replace an existing file")
    script.add_argument("--verbose", "-v", action="store_true", help="log debugging detail")
    for name, help_text in (
        ("run", "long-poll QuantLink and place the orders (Ctrl-C to stop)"),
        ("status", "show today's orders and refusals and the last signals, with the reasons"),
        ("pause", "refuse every signal until `resume` (the local kill switch)"),
        ("resume", "trade again after `pause`"),
        ("report", "post the account's current holdings to QuantLink now"),
        ("doctor", "check the config, the API, the token, the device binding and miniQMT"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--config", "-c", required=True, help="the agent's TOML or JSON config file")
        command.add_argument("--verbose", "-v", action="store_true", help="log debugging detail")
        if name == "status":
            command.add_argument("--limit", type=int, default=10, help="how many recent signals to show")
            command.add_argument("--json", action="store_true", help="print JSON instead of text")
        if name == "pause":
            command.add_argument("--reason", help="why, shown in every refusal and in `status`")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    if args.command == "init":
        return _init(args)
    if args.command == "ptrade-script":
        return _ptrade_script(args)
    if args.command == "doctor":
        return run_doctor(args.config, build_executor, sys.stdout)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        log.error("%s", exc)
        return EXIT_CONFIG
    if config.ptrade is not None:
        log.error("%s", PTRADE_RUNS_IN_PTRADE.format(config=args.config, prefix=config.ptrade.files_prefix))
        return EXIT_CONFIG
    commands: Mapping[str, Callable[[AgentConfig, argparse.Namespace], int]] = {
        "run": _run,
        "status": _status,
        "pause": _pause,
        "resume": _resume,
        "report": _report,
    }
    return commands[args.command](config, args)
