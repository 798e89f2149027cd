"""The terminal inside PTrade: the agent's own loop (agent.Agent.run_once), once per `run_interval` tick.

`start_in_ptrade` is what the script's `initialize` calls: it routes the agent's logging into PTrade's log,
checks that this PTrade lets the script use what it needs (urllib for HTTP, the research folder for the
journal), builds the agent on the PTrade executor and the file journal, and schedules `quantlink_poll`.
A tick never raises: whatever goes wrong is said in PTrade's log (English | 中文) and the next tick tries
again. The most common trouble, a broker whose PTrade may not reach the internet, gets a message that names
it as the likely cause and says what to ask the broker.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Mapping
from urllib.parse import urlparse

from quantlink_terminal import __version__
from quantlink_terminal.activity import ActivityLog
from quantlink_terminal.agent import (
    MAX_RATE_LIMIT_WAIT,
    MIN_RATE_LIMIT_WAIT,
    Agent,
    AgentSettings,
    device_taken_over_message,
)
from quantlink_terminal.calendar import MarketCalendar, parse_holidays
from quantlink_terminal.client import (
    ApiError,
    DeviceTakenOver,
    QuantLinkClient,
    RateLimited,
    TransientError,
    Unauthorized,
)
from quantlink_terminal.clock import Clock, monotonic, system_clock
from quantlink_terminal.execution import SignalRunner
from quantlink_terminal.executors.base import ExecutorUnavailable
from quantlink_terminal.pause import PauseSwitch
from quantlink_terminal.polling import PollingSettings, PollPolicy
from quantlink_terminal.ptrade.api import NamespaceApi
from quantlink_terminal.ptrade.executor import PTradeExecutor
from quantlink_terminal.ptrade.filejournal import FileJournal
from quantlink_terminal.ptrade.settings import ScriptSettings
from quantlink_terminal.report import HoldingsReporter
from quantlink_terminal.risk import RiskGuard

log = logging.getLogger(__name__)

POLL_FUNCTION = "quantlink_poll"  # the script's run_interval callback
REMIND_EVERY_SECONDS = 600  # a problem that lasts is said again this often, not at every tick
FATAL_RETRY_SECONDS = 60  # after a refused token or device, ask again this rarely
# Modules without which the script cannot talk to QuantLink at all.
HTTP_MODULES = ("urllib", "socket", "json")

_HANDLER_FLAG = "_quantlink_ptrade_handler"


class PTradeLogHandler(logging.Handler):
    """The agent's log lines, into PTrade's log panel (`log.info` / `log.warning` / `log.error`)."""

    def __init__(self, api: NamespaceApi) -> None:
        super().__init__(logging.INFO)
        self._api = api
        setattr(self, _HANDLER_FLAG, True)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            if record.levelno >= logging.ERROR:
                self._api.write_log("error", message)
            elif record.levelno >= logging.WARNING:
                self._api.write_log("warning", message)
            else:
                self._api.write_log("info", message)
        except Exception:  # noqa: BLE001 - logging must never break trading
            return


def route_logging(api: NamespaceApi) -> None:
    logger = logging.getLogger("quantlink_terminal")
    for handler in list(logger.handlers):
        if getattr(handler, _HANDLER_FLAG, False):
            logger.removeHandler(handler)  # a restart in the same process: one handler, not two
    logger.addHandler(PTradeLogHandler(api))
    logger.setLevel(logging.INFO)
    logger.propagate = False


class Files:
    """Where the terminal keeps its state: PTrade's research folder, which survives restarts."""

    def __init__(self, research_path: str, prefix: str) -> None:
        folder = research_path if research_path.endswith(("/", "\\")) else research_path + "/"
        self.journal = f"{folder}{prefix}-journal.jsonl"
        self.activity = f"{folder}{prefix}-activity.jsonl"
        self.pause = f"{folder}{prefix}-paused"


def _where(api_base: str) -> tuple[str, int]:
    parsed = urlparse(api_base)
    return parsed.hostname or api_base, parsed.port or (443 if parsed.scheme == "https" else 80)


def unreachable_message(api_base: str, detail: str, poll_seconds: int) -> str:
    host, port = _where(api_base)
    return (
        f"QuantLink ({host}) cannot be reached from this PTrade: {detail}. Most brokers run PTrade in their "
        "intranet and block outbound internet (HTTP/HTTPS) from strategies; that is the likely cause. Ask "
        f"your broker to let this PTrade reach {host} on port {port} (外网访问 / 白名单), or use a broker "
        f"whose PTrade allows it. The terminal tries again every {poll_seconds} s; meanwhile no order is "
        "placed and signals wait on QuantLink until they expire. | 本 PTrade 无法连接 QuantLink"
        f"（{host}）：{detail}。多数券商的 PTrade 运行在券商内网，禁止策略访问外网（HTTP/HTTPS），"
        f"这很可能就是原因。请联系券商为本 PTrade 开通访问 {host} 端口 {port} 的外网权限（加入白名单），"
        f"或改用允许外网访问的券商。终端每 {poll_seconds} 秒重试一次；在此期间不会下单，"
        "信号在 QuantLink 等待直至过期。"
    )


def blocked_modules_message(missing: list[tuple[str, str]]) -> str:
    names = ", ".join(sorted({name for name, _error in missing}))
    http = any(name.split(".")[0] in HTTP_MODULES for name, _error in missing)
    cause_en = (
        "Without them it cannot make HTTP requests: this PTrade blocks outbound HTTP for strategies. "
        if http
        else ""
    )
    cause_zh = "缺少这些模块无法发起 HTTP 请求：本 PTrade 禁止策略访问外网。" if http else ""
    return (
        f"This PTrade does not allow the Python module(s) {names}, which the QuantLink terminal needs. "
        f"{cause_en}Ask your broker whether they can be enabled, or use a broker whose PTrade allows them; "
        f"the terminal does not start. | 本 PTrade 不允许使用 Python 模块 {names}，"
        "QuantLink 终端需要这些模块。"
        f"{cause_zh}请咨询券商能否开放，或改用允许的券商 PTrade；终端未启动。"
    )


def unauthorized_text(settings: ScriptSettings) -> str:
    return (
        "QuantLink refused this terminal's auth token (401): it is wrong, or it was rotated. Generate the "
        "PTrade script again with the terminal's current token (quantlink-terminal ptrade-script, or the web "
        "app's Terminals page) and paste it into PTrade in place of this one. | QuantLink 拒绝了本终端的令牌"
        "（401）：令牌错误或已轮换。请用终端当前的令牌重新生成 PTrade 脚本，并替换 PTrade 中的本脚本。"
    )


class PTradeTerminal:
    """One terminal inside PTrade. `tick` runs one round of the agent; `after_close` posts the holdings."""

    def __init__(
        self,
        settings: ScriptSettings,
        api: NamespaceApi,
        research_path: str,
        calendar: MarketCalendar,
        clock: Clock = system_clock,
        keep_activity_log: bool = True,
    ) -> None:
        self.settings = settings
        self.api = api
        self.files = Files(research_path, settings.ptrade.files_prefix)
        self.journal = FileJournal(self.files.journal)
        self.executor = PTradeExecutor(
            api, self.journal, settings.ptrade, settings.sizing.market_buy_buffer, clock=clock
        )
        client = QuantLinkClient(
            settings.api_base,
            settings.auth_token,
            settings.device_fingerprint,
            timeout=settings.ptrade.http_timeout,
        )
        activity = ActivityLog(self.files.activity if keep_activity_log else None, clock=clock)
        risk = RiskGuard(settings.risk, calendar, PauseSwitch(self.files.pause))
        runner = SignalRunner(
            self.journal, self.executor, settings.sizing, risk, clock=clock, activity=activity
        )
        self.reporter = HoldingsReporter(
            client, self.executor, self.journal, settings.report_after_close, clock=clock, calendar=calendar
        )
        self.agent = Agent(
            client,
            runner,
            self.journal,
            self.executor,
            self.reporter,
            settings=AgentSettings(terminal_id=settings.terminal_id, config_path="the PTrade script"),
            clock=clock,
            # Ask and return at once (wait=0): a run_interval callback must not sit in a 20 s long-poll.
            polling=PollPolicy(PollingSettings(active_wait=0, idle_interval=0), calendar),
            activity=activity,
        )
        self._lock = threading.Lock()
        self._problem: str | None = None  # what the last failed tick said, to say it again only now and then
        self._problem_said_at = 0.0
        self._quiet_until = 0.0

    # -- the PTrade callbacks -----------------------------------------------------------------------

    def tick(self, context: Any) -> int:
        """One round: acks, pull, execute, acks. The number of signals handled; never raises."""
        self.api.use_context(context)
        if monotonic() < self._quiet_until:
            return 0
        if not self._lock.acquire(False):
            return 0  # the previous tick is still at work (PTrade runs run_interval callbacks in threads)
        try:
            handled = self.agent.run_once()
            self._recovered()
            return handled
        except Exception as exc:  # noqa: BLE001 - a tick reports, it never takes the strategy down
            self._failed(exc)
            return 0
        finally:
            self._lock.release()

    def after_close(self, context: Any) -> None:
        """After the close (after_trading_end): the day's holdings report, once."""
        self.api.use_context(context)
        with self._lock:
            try:
                self.reporter.report_if_due()
            except Exception as exc:  # noqa: BLE001
                self._failed(exc)

    # -- saying what went wrong ---------------------------------------------------------------------

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, TransientError) and exc.code in ("NETWORK", "BAD_RESPONSE"):
            detail = (
                exc.message if exc.code == "NETWORK" else "the answer was not QuantLink's (a firewall page?)"
            )
            self._say(unreachable_message(self.settings.api_base, detail, self.settings.ptrade.poll_seconds))
        elif isinstance(exc, RateLimited):
            # Ticks before the server's Retry-After would only be refused again: skip them, then go on.
            wait = min(max(exc.retry_after or 0.0, MIN_RATE_LIMIT_WAIT), MAX_RATE_LIMIT_WAIT)
            self._quiet_until = monotonic() + wait
            self._say(
                f"QuantLink asks this terminal to slow down ({exc}); polling again in {wait:.0f} s | "
                "QuantLink 限流，稍后继续轮询"
            )
        elif isinstance(exc, TransientError):
            self._say(
                f"QuantLink answered {exc}; trying again at the next poll | "
                "QuantLink 暂时不可用，下次轮询重试"
            )
        elif isinstance(exc, Unauthorized):
            self._quiet_until = monotonic() + FATAL_RETRY_SECONDS
            self._say(unauthorized_text(self.settings))
        elif isinstance(exc, DeviceTakenOver):
            self._quiet_until = monotonic() + FATAL_RETRY_SECONDS
            settings = AgentSettings(terminal_id=self.settings.terminal_id)
            self._say(device_taken_over_message(settings, exc.message))
        elif isinstance(exc, ApiError):
            self._say(
                f"QuantLink refused the request ({exc}); regenerate the PTrade script with this version"
            )
        elif isinstance(exc, ExecutorUnavailable):
            self._say(f"PTrade is not ready to trade: {exc}. {exc.fix}")
        else:
            log.exception("unexpected error in the QuantLink terminal; carrying on at the next poll")

    def _say(self, message: str) -> None:
        now = monotonic()
        if message != self._problem or now - self._problem_said_at >= REMIND_EVERY_SECONDS:
            log.error("%s", message)
            self._problem, self._problem_said_at = message, now

    def _recovered(self) -> None:
        if self._problem is not None:
            log.info("QuantLink is reachable again; trading resumed | 已恢复连接 QuantLink，继续交易")
            self._problem = None


def start_in_ptrade(
    namespace: Mapping[str, Any],
    context: Any,
    payload: Mapping[str, Any],
    holidays: str,
    clock: Clock = system_clock,
) -> PTradeTerminal | None:
    """What the script's `initialize` runs: the terminal, scheduled on run_interval; None when it cannot run
    here (the log says why)."""
    api = NamespaceApi(namespace)
    api.use_context(context)
    route_logging(api)
    missing = list(namespace.get("_QL_MISSING_MODULES") or [])
    required = [(name, error) for name, error in missing if name.split(".")[0] != "os"]
    if required:
        log.error("%s", blocked_modules_message(required))
        return None
    is_trade = namespace.get("is_trade")
    if callable(is_trade) and not is_trade():
        log.warning(
            "the QuantLink terminal places orders only in PTrade's 交易 (trading) module; in a backtest it "
            "does nothing | QuantLink 终端只在“交易”模块中下单，回测中不运行"
        )
        return None
    try:
        settings = ScriptSettings.from_payload(payload)
        terminal = PTradeTerminal(
            settings,
            api,
            str(api.function("get_research_path")()),
            parse_holidays(holidays),
            clock=clock,
            keep_activity_log=not any(name.split(".")[0] == "os" for name, _error in missing),
        )
        api.function("run_interval")(context, namespace[POLL_FUNCTION], seconds=settings.ptrade.poll_seconds)
    except ExecutorUnavailable as exc:
        log.error("the QuantLink terminal cannot start: %s. %s", exc, exc.fix)
        return None
    except (ValueError, KeyError, TypeError) as exc:
        log.error(
            "the QuantLink terminal cannot start: its settings in this script are damaged (%s); generate the "
            "script again | 脚本中的设置已损坏（%s），请重新生成脚本",
            exc,
            exc,
        )
        return None
    log.info(
        "QuantLink PTrade terminal %s started: API %s, terminal %s, journal %s, polling every %d s | "
        "QuantLink PTrade 终端已启动",
        __version__,
        settings.api_base,
        settings.terminal_id or "-",
        terminal.files.journal,
        settings.ptrade.poll_seconds,
    )
    return terminal
