"""Build the agent's parts from a config: the one place that knows which class goes with which setting."""

from __future__ import annotations

from typing import Callable

from quantlink_terminal.activity import ActivityLog
from quantlink_terminal.agent import Agent, AgentSettings
from quantlink_terminal.calendar import MarketCalendar, market_calendar
from quantlink_terminal.client import QuantLinkClient
from quantlink_terminal.clock import Clock, system_clock
from quantlink_terminal.config import AgentConfig
from quantlink_terminal.execution import OutcomeHook, SignalRunner
from quantlink_terminal.executors.base import Executor, ExecutorUnavailable
from quantlink_terminal.executors.paper import PaperExecutor
from quantlink_terminal.executors.qmt import QmtExecutor, XtModules, load_xtquant
from quantlink_terminal.fingerprint import device_fingerprint
from quantlink_terminal.journal import Journal
from quantlink_terminal.pause import PauseSwitch
from quantlink_terminal.polling import PollPolicy
from quantlink_terminal.push import PushChannel
from quantlink_terminal.report import HoldingsReporter
from quantlink_terminal.risk import RiskGuard


def build_executor(
    config: AgentConfig, load_modules: Callable[[], XtModules] = load_xtquant, clock: Clock = system_clock
) -> Executor:
    if config.xtquant is not None:
        return QmtExecutor(config.xtquant, load_modules=load_modules, clock=clock)
    if config.paper is not None:
        return PaperExecutor(config.paper, clock=clock)
    if config.ptrade is not None:
        raise ExecutorUnavailable(
            "the ptrade executor runs inside PTrade, not on this PC",
            "Generate the PTrade script with `quantlink-terminal ptrade-script` and paste it into PTrade.",
        )
    raise ValueError(f"no settings for executor {config.executor!r}")


def build_client(config: AgentConfig) -> QuantLinkClient:
    return QuantLinkClient(config.api_base, config.auth_token, device_fingerprint(config.device_fingerprint))


def build_activity(config: AgentConfig, clock: Clock = system_clock) -> ActivityLog:
    return ActivityLog(config.activity_log, clock=clock)


def build_risk_guard(config: AgentConfig, calendar: MarketCalendar | None = None) -> RiskGuard:
    return RiskGuard(config.risk, calendar or market_calendar(), PauseSwitch(config.pause_file))


def build_agent(
    config: AgentConfig,
    journal: Journal,
    executor: Executor,
    after_outcome_recorded: OutcomeHook | None = None,
    clock: Clock = system_clock,
    activity: ActivityLog | None = None,
) -> Agent:
    calendar = market_calendar()
    client = build_client(config)
    activity = activity or build_activity(config, clock)
    runner = SignalRunner(
        journal,
        executor,
        config.sizing,
        build_risk_guard(config, calendar),
        clock=clock,
        after_outcome_recorded=after_outcome_recorded,
        activity=activity,
    )
    reporter = HoldingsReporter(
        client, executor, journal, config.report_after_close, clock=clock, calendar=calendar
    )
    settings = AgentSettings(terminal_id=config.terminal_id, config_path=config.path)

    def push_channel(url: str) -> PushChannel:
        return PushChannel(url, client.auth_token, client.fingerprint)

    return Agent(
        client,
        runner,
        journal,
        executor,
        reporter,
        settings=settings,
        clock=clock,
        polling=PollPolicy(config.polling, calendar),
        activity=activity,
        push_factory=push_channel if config.polling.push else None,
    )
