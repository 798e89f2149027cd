"""The `quantlink-terminal` command: run, report, doctor."""

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
from quantlink_terminal.client import ApiError
from quantlink_terminal.config import AgentConfig, ConfigError, load_config
from quantlink_terminal.doctor import run_doctor
from quantlink_terminal.execution import OutcomeHook
from quantlink_terminal.executors.base import ExecutorUnavailable
from quantlink_terminal.journal import Journal
from quantlink_terminal.report import HoldingsReporter
from quantlink_terminal.wiring import build_agent, build_client, build_executor

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


def _run(config: AgentConfig) -> int:
    journal = Journal(config.journal_path)
    try:
        agent = build_agent(
            config, journal, build_executor(config), after_outcome_recorded=crash_hook(os.environ)
        )
        _install_stop_handlers(agent)
        log.info("quantlink-terminal %s: %s executor, API %s", __version__, config.executor, config.api_base)
        agent.run()
    except AgentFatal as exc:
        log.error("%s", exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        # The second Ctrl-C: whatever was in hand is in the journal and is reconciled on the next start.
        log.warning("interrupted; the next start picks up from the journal")
        return EXIT_INTERRUPTED
    finally:
        journal.close()
    log.info("stopped")
    return 0


def _report(config: AgentConfig) -> int:
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quantlink-terminal", description="Carry QuantLink signals to your miniQMT account."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for name, help_text in (
        ("run", "long-poll QuantLink and place the orders (Ctrl-C to stop)"),
        ("report", "post the account's current holdings to QuantLink now"),
        ("doctor", "check the config, the API, the token, the device binding and miniQMT"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--config", "-c", required=True, help="the agent's TOML or JSON config file")
        command.add_argument("--verbose", "-v", action="store_true", help="log debugging detail")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    if args.command == "doctor":
        return run_doctor(args.config, build_executor, sys.stdout)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        log.error("%s", exc)
        return EXIT_CONFIG
    commands: Mapping[str, Callable[[AgentConfig], int]] = {"run": _run, "report": _report}
    return commands[args.command](config)
