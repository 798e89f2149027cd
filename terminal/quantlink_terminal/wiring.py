"""Build the agent's parts from a config: the one place that knows which class goes with which setting."""

from __future__ import annotations

from typing import Callable

from quantlink_terminal.agent import Agent, AgentSettings
from quantlink_terminal.client import QuantLinkClient
from quantlink_terminal.clock import Clock, system_clock
from quantlink_terminal.config import AgentConfig
from quantlink_terminal.execution import OutcomeHook, SignalRunner
from quantlink_terminal.executors.base import Executor
from quantlink_terminal.executors.paper import PaperExecutor
from quantlink_terminal.executors.qmt import QmtExecutor, XtModules, load_xtquant
from quantlink_terminal.fingerprint import device_fingerprint
from quantlink_terminal.journal import Journal
from quantlink_terminal.report import HoldingsReporter


def build_executor(
    config: AgentConfig, load_modules: Callable[[], XtModules] = load_xtquant, clock: Clock = system_clock
) -> Executor:
    if config.xtquant is not None:
        return QmtExecutor(config.xtquant, load_modules=load_modules, clock=clock)
    if config.paper is not None:
        return PaperExecutor(config.paper, clock=clock)
    raise ValueError(f"no settings for executor {config.executor!r}")


def build_client(config: AgentConfig) -> QuantLinkClient:
    return QuantLinkClient(config.api_base, config.auth_token, device_fingerprint(config.device_fingerprint))


def build_agent(
    config: AgentConfig,
    journal: Journal,
    executor: Executor,
    after_outcome_recorded: OutcomeHook | None = None,
    clock: Clock = system_clock,
) -> Agent:
    client = build_client(config)
    runner = SignalRunner(
        journal, executor, config.sizing, clock=clock, after_outcome_recorded=after_outcome_recorded
    )
    reporter = HoldingsReporter(client, executor, journal, config.report_after_close, clock=clock)
    settings = AgentSettings(terminal_id=config.terminal_id, config_path=config.path)
    return Agent(client, runner, journal, executor, reporter, settings=settings, clock=clock)
