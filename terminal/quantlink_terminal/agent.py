"""The agent loop: long-poll, execute each signal exactly once, ack, report holdings; stop cleanly."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from quantlink_terminal.activity import ActivityLog
from quantlink_terminal.backoff import Backoff
from quantlink_terminal.calendar import market_calendar
from quantlink_terminal.client import (
    MAX_ACKS_PER_REQUEST,
    ApiError,
    DeviceTakenOver,
    QuantLinkClient,
    RateLimited,
    TransientError,
    Unauthorized,
)
from quantlink_terminal.clock import Clock, system_clock, to_iso
from quantlink_terminal.execution import SignalRunner, client_order_id
from quantlink_terminal.executions import ExecutionJournal
from quantlink_terminal.executors.base import Executor, ExecutorUnavailable
from quantlink_terminal.models import REJECTED, MalformedSignal, Outcome, Signal, parse_signal
from quantlink_terminal.ordering import execution_order
from quantlink_terminal.polling import PollingSettings, PollPolicy
from quantlink_terminal.reasons import Reason
from quantlink_terminal.report import HoldingsReporter

log = logging.getLogger(__name__)

EXIT_UNAUTHORIZED = 3
EXIT_DEVICE_TAKEN_OVER = 4
EXIT_API_REFUSED = 5
DELIVERY_MODE_KEY = "delivery_mode"  # journal meta: how signals reach this terminal now (status shows it)
CONFIG_RETRY_SECONDS = 600.0  # how often to ask again whether the server offers push
PUSH_OPEN_WAIT_SECONDS = 5.0
# A 429's Retry-After is obeyed within these bounds: never a busy loop, never a stalled trading day.
MIN_RATE_LIMIT_WAIT = 1.0
MAX_RATE_LIMIT_WAIT = 300.0

# Makes a quantlink_terminal.push.PushChannel for the server's URL (wiring.py). Typed loosely on purpose:
# the PTrade script bundles this module, and must not bundle the WebSocket client.
PushFactory = Callable[[str], Any]


class AgentFatal(Exception):
    """The agent cannot go on without the trader doing something; `message` says what."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message


@dataclass(frozen=True)
class AgentSettings:
    pull_max: int = 10
    terminal_id: str | None = None  # only to make messages precise
    config_path: str = "the config file"


def unauthorized_message(settings: AgentSettings) -> str:
    return (
        "QuantLink refused this terminal's auth token (401): it is wrong, or it was rotated. "
        "Copy the terminal's current token from the QuantLink web app (Terminals) into `auth_token` in "
        f"{settings.config_path}, then start the agent again."
    )


def device_taken_over_message(settings: AgentSettings, server_message: str) -> str:
    terminal = settings.terminal_id or "{terminalId}"
    return (
        f"Another device already runs this terminal (409 DEVICE_TAKEN_OVER: {server_message}). "
        "Only one PC may run a terminal, so nothing is placed twice. If this PC should take over: stop the "
        "agent on the other PC, then release the device in the QuantLink web app (Terminals -> Release "
        f"device) or with `POST /api/terminals/{terminal}/release`, and start the agent here again."
    )


class Agent:
    def __init__(
        self,
        client: QuantLinkClient,
        runner: SignalRunner,
        journal: ExecutionJournal,
        executor: Executor,
        reporter: HoldingsReporter,
        settings: AgentSettings | None = None,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Clock = system_clock,
        polling: PollPolicy | None = None,
        activity: ActivityLog | None = None,
        push_factory: PushFactory | None = None,
    ) -> None:
        self._client = client
        self._runner = runner
        self._journal = journal
        self._executor = executor
        self._reporter = reporter
        self._settings = settings or AgentSettings()
        self._backoff = backoff or Backoff()
        self._sleep = sleep or self._interruptible_sleep
        self._clock = clock
        self._polling = polling or PollPolicy(PollingSettings(), market_calendar())
        self._activity = activity or ActivityLog()
        self._stop = threading.Event()
        self._executor_connected = False
        # Push (API.md "Push"): made from the server's config when it offers it; None long-polls.
        self._push_factory = push_factory
        self._push: Any = None  # a started PushChannel
        self._next_config_check = 0.0
        self._next_safety_pull = 0.0
        self._mode = ""

    # -- control ------------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Safe from a signal handler: the signal in hand is finished and acked, then run() returns."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        """Run until request_stop(); raises AgentFatal when only the trader can fix what is wrong."""
        try:
            while not self._stop.is_set():
                self._run_guarded()
        finally:
            self._finish()

    def _run_guarded(self) -> None:
        try:
            self.run_once()
        except Unauthorized as exc:
            raise AgentFatal(EXIT_UNAUTHORIZED, unauthorized_message(self._settings)) from exc
        except DeviceTakenOver as exc:
            raise AgentFatal(
                EXIT_DEVICE_TAKEN_OVER, device_taken_over_message(self._settings, exc.message)
            ) from exc
        except RateLimited as exc:
            self._wait_rate_limited(exc)
        except TransientError as exc:
            self._pause(f"QuantLink unreachable ({exc})")
        except ExecutorUnavailable as exc:
            # Unacked signals come back after the visibility timeout; the journal keeps them single.
            self._executor_connected = False
            self._activity.executor_unavailable(self._executor.name, str(exc), exc.fix)
            self._pause(f"{self._executor.name} executor unavailable: {exc}. {exc.fix}")
        except ApiError as exc:
            raise AgentFatal(
                EXIT_API_REFUSED,
                f"QuantLink refused the request ({exc}); check `api_base` "
                f"in {self._settings.config_path} and that this agent is up to date.",
            ) from exc
        except Exception:
            # A bug must not take the terminal offline for the day; the journal keeps a retry single.
            log.exception("unexpected error; carrying on")
            self._pause("recovering from an unexpected error")

    def _wait_rate_limited(self, exc: RateLimited) -> None:
        """429: the server says how long to wait (Retry-After); wait that, then go on as before. Not a
        failure: the backoff is not raised. Without a Retry-After (API Gateway's own throttling), back off."""
        if exc.retry_after is None:
            self._pause(f"QuantLink is throttling this terminal ({exc})")
            return
        delay = min(max(exc.retry_after, MIN_RATE_LIMIT_WAIT), MAX_RATE_LIMIT_WAIT)
        log.warning("QuantLink asks this terminal to slow down (%s); waiting %.0f s", exc, delay)
        self._sleep(delay)

    def _pause(self, why: str) -> None:
        delay = self._backoff.next_delay()
        log.warning("%s; retrying in %.1f s (attempt %d)", why, delay, self._backoff.failures)
        self._sleep(delay)

    # -- one round ----------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Flush acks, report holdings if due, take pushed signals or pull once, execute what came; the
        number of signals handled."""
        self._ensure_executor()
        self._flush_acks()
        self._reporter.report_if_due()
        push = self._ensure_push()
        if push is not None and push.connected:
            raw_signals = self._push_round(push)
        else:
            plan = self._polling.plan(self._clock())
            raw_signals = self._pull(plan.wait)
            self._backoff.reset()
            if not raw_signals and plan.idle_sleep:
                # Outside the trading windows: a cheap poll now and then instead of a billed long-poll.
                self._sleep(plan.idle_sleep)
        signals = self._parse(raw_signals)
        handled = 0
        for signal in execution_order(signals):
            if self._stop.is_set():
                # The rest stay unacked and come back after the visibility timeout.
                log.info("stopping: leaving %d pulled signal(s) for redelivery", len(signals) - handled)
                break
            self._runner.run(signal)
            handled += 1
            self._flush_acks_quietly()  # ack each signal as soon as it is done
        return handled

    # -- push ---------------------------------------------------------------------------------------

    def _ensure_push(self) -> Any:
        """Start the push channel once the server offers it; surface a refusal only the trader can fix."""
        due = time.monotonic() >= self._next_config_check
        if self._push is None and self._push_factory is not None and due:
            self._next_config_check = time.monotonic() + CONFIG_RETRY_SECONDS
            try:
                url = self._client.push_url()
            except ApiError as exc:  # unreachable, or a server that predates push: long-poll
                log.info("cannot ask QuantLink whether it offers push (%s); long-polling", exc)
                url = None
            if url is not None:
                self._push = self._push_factory(url)
                if self._push is not None:
                    # A moment for the socket to open, so the first round need not be a long-poll.
                    self._push.start().wait_connected(PUSH_OPEN_WAIT_SECONDS)
        push = self._push
        if push is not None and push.fatal is not None:
            refused = push.fatal
            error = DeviceTakenOver if refused.status == 409 else Unauthorized
            raise error(refused.status, refused.code, refused.message)
        self._note_mode(push.state if push is not None else "long-poll")
        return push

    def _push_round(self, push: Any) -> list[dict[str, Any]]:
        """Signals pushed in the next second, plus a `wait=0` pull after every (re)connect and every few
        minutes: a push is an accelerator, the queue is the record, and the journal keeps both single."""
        now = time.monotonic()
        if push.needs_catch_up() or now >= self._next_safety_pull:
            settings = self._polling.settings
            interval = (
                settings.push_pull_interval
                if self._polling.active(self._clock())
                else settings.push_idle_pull_interval
            )
            self._next_safety_pull = now + interval
            pulled = self._pull(0)
            self._backoff.reset()
            pushed: list[dict[str, Any]] = push.take(0)
            return pulled + pushed
        waited: list[dict[str, Any]] = push.take(min(1.0, max(0.0, self._next_safety_pull - now)))
        return waited

    def _note_mode(self, mode: str) -> None:
        if mode == self._mode:
            return
        if self._mode:
            log.warning("delivery: %s (was %s)", mode, self._mode)
        else:
            log.info("delivery: %s", mode)
        self._mode = mode
        if self._push is not None:  # the activity log tells of push only where the server offers it
            self._activity.note("delivery", mode=mode)
        self._journal.set_meta(DELIVERY_MODE_KEY, mode)

    def _ensure_executor(self) -> None:
        # Connect before pulling: a pulled signal we cannot execute only waits out the visibility timeout.
        if not self._executor_connected:
            self._executor.connect()
            self._executor_connected = True
            log.info("%s executor connected", self._executor.name)

    def _pull(self, wait: int) -> list[dict[str, Any]]:
        """Long-poll in a helper thread so Ctrl-C is noticed at once, even on Windows where a blocking
        socket read does not see it; a pull abandoned on stop just redelivers."""
        box: dict[str, Any] = {}

        def pull() -> None:
            try:
                box["signals"] = self._client.pull(wait, self._settings.pull_max)
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which re-raises it
                box["error"] = exc

        worker = threading.Thread(target=pull, name="quantlink-pull", daemon=True)
        worker.start()
        while worker.is_alive() and not self._stop.is_set():
            worker.join(0.2)
        if worker.is_alive():
            return []
        if "error" in box:
            raise box["error"]
        signals: list[dict[str, Any]] = box["signals"]
        return signals

    def _parse(self, raw_signals: list[dict[str, Any]]) -> list[Signal]:
        signals = []
        for raw in raw_signals:
            try:
                signals.append(parse_signal(raw))
            except MalformedSignal as exc:
                self._reject_malformed(exc)
        return signals

    def _reject_malformed(self, exc: MalformedSignal) -> None:
        if exc.signal_id is None or exc.ack_token is None:
            log.error("ignoring a pulled signal that cannot be acked: %s", exc.reason)
            return
        log.error("signal %s rejected: %s", exc.signal_id, exc.reason)
        reason = Reason("malformed", exc.reason, f"信号格式有误：{exc.reason}")
        self._journal.record_outcome(
            exc.signal_id,
            client_order_id(exc.signal_id),
            Outcome.refused(REJECTED, reason),
            exc.ack_token,
            self._now(),
        )

    # -- acks ---------------------------------------------------------------------------------------

    def _flush_acks(self) -> None:
        """Ack every journaled outcome the server has not confirmed yet (also those left by a crash)."""
        while True:
            pending = self._journal.pending_acks(MAX_ACKS_PER_REQUEST)
            if not pending:
                return
            batch: list[tuple[str, dict[str, Any]]] = [
                (entry.signal_id, entry.outcome.to_ack(entry.signal_id, entry.ack_token))
                for entry in pending
                if entry.outcome is not None and entry.ack_token is not None
            ]
            if not batch:
                return
            accepted = self._client.ack([ack for _, ack in batch])
            for signal_id, ack in batch:
                if accepted.get(signal_id):
                    self._journal.mark_acked(signal_id, self._now())
                    self._activity.acked(signal_id, ack["status"])
                else:
                    # A stale token (the message became visible again): the redelivery brings a fresh one.
                    log.warning(
                        "server did not take the ack of %s; it will be acked on redelivery", signal_id
                    )
                    self._journal.forget_ack_token(signal_id, self._now())

    def _flush_acks_quietly(self) -> None:
        try:
            self._flush_acks()
        except TransientError as exc:
            # Keep executing the batch; the journal keeps the ack and the next round retries it
            # (after a 429, once run() has waited out its Retry-After).
            log.warning("ack deferred (%s); the journal keeps it for the next round", exc)

    # -- shutdown -----------------------------------------------------------------------------------

    def _finish(self) -> None:
        if self._push is not None:
            self._push.stop()
        try:
            self._flush_acks()
        except ApiError as exc:
            log.warning("could not ack before exiting (%s); the next start acks from the journal", exc)
        finally:
            if self._executor_connected:
                self._executor.close()

    def _interruptible_sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            # Short slices: on Windows a long Event.wait would hold back Ctrl-C until it ends.
            self._stop.wait(min(remaining, 0.2))

    def _now(self) -> str:
        return to_iso(self._clock())
