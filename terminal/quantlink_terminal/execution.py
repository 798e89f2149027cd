"""Exactly-once execution of one signal: journal first, then the broker, then the outcome."""

from __future__ import annotations

import hashlib
import logging
from typing import Callable

from quantlink_terminal.clock import Clock, parse_iso, system_clock, to_iso
from quantlink_terminal.executors.base import Executor, OrderRequest
from quantlink_terminal.journal import ACKED, DONE, PLACING, Journal, JournalEntry
from quantlink_terminal.models import FAILED, REJECTED, Outcome, Signal
from quantlink_terminal.sizing import SizingError, SizingRule, size_order

log = logging.getLogger(__name__)

OutcomeHook = Callable[[str], None]


def client_order_id(signal_id: str) -> str:
    """The order's idempotency key at the broker. xtquant keeps it as order_remark, which holds at most
    24 characters, so a signal id of any length is hashed down to 22."""
    return "QL" + hashlib.sha256(signal_id.encode("utf-8")).hexdigest()[:20]


class SignalRunner:
    """Turns one pulled signal into an Outcome, executing it at most once across restarts and redeliveries."""

    def __init__(
        self,
        journal: Journal,
        executor: Executor,
        sizing: SizingRule,
        clock: Clock = system_clock,
        after_outcome_recorded: OutcomeHook | None = None,
    ) -> None:
        self._journal = journal
        self._executor = executor
        self._sizing = sizing
        self._clock = clock
        # Test seam: the e2e test makes the agent die right here, between execution and ack.
        self._after_outcome_recorded = after_outcome_recorded

    def run(self, signal: Signal) -> Outcome:
        """The outcome to ack; afterwards the journal holds it as DONE with this signal's ack token.
        May raise ExecutorUnavailable: the signal is then left unacked and comes back later."""
        entry = self._journal.get(signal.signal_id)
        if entry is not None and entry.state in (DONE, ACKED) and entry.outcome is not None:
            log.info(
                "signal %s was already handled (%s); acking it from the journal, not executing it again",
                signal.signal_id,
                entry.outcome.status,
            )
            self._journal.remember_ack_token(signal.signal_id, signal.ack_token, self._now())
            return entry.outcome
        if entry is not None and entry.state == PLACING:
            return self._reconcile(signal, entry)
        return self._execute(signal, journaled=False)

    # -- the paths ----------------------------------------------------------------------------------

    def _reconcile(self, signal: Signal, entry: JournalEntry) -> Outcome:
        """The agent stopped after journaling this order but before recording its outcome: the order may or
        may not have reached the broker. Ask the broker before deciding; never place blindly."""
        found = self._executor.find_order(entry.client_order_id)
        if found is not None:
            log.warning(
                "signal %s: recovered the outcome of order %s placed before a restart (%s)",
                signal.signal_id,
                entry.client_order_id,
                found.status,
            )
            return self._record(signal, entry.client_order_id, found)
        journaled_day = parse_iso(entry.created_at).date()
        if journaled_day != self._clock().date():
            # Broker order queries only cover today: absence proves nothing about an earlier day.
            return self._record(
                signal,
                entry.client_order_id,
                Outcome(
                    status=FAILED,
                    error=(
                        f"the agent stopped while placing this order on {journaled_day}; no order with "
                        f"remark {entry.client_order_id} is visible today, so it was not placed again. "
                        "Check the broker's order history."
                    ),
                ),
            )
        log.warning("signal %s: journaled but never reached the broker; placing it now", signal.signal_id)
        return self._execute(signal, journaled=True)

    def _execute(self, signal: Signal, journaled: bool) -> Outcome:
        order_key = client_order_id(signal.signal_id)
        refusal = self._refusal(signal)
        if refusal is not None:
            return self._record(signal, order_key, Outcome(status=REJECTED, error=refusal))
        try:
            rule = self._sizing.overridden_by(signal.sizing)
        except (SizingError, TypeError, ValueError) as exc:
            return self._record(signal, order_key, Outcome(status=REJECTED, error=f"bad sizing: {exc}"))
        account = self._executor.account()
        price = signal.limit_price or signal.price or self._executor.last_price(signal.security)
        sized = size_order(signal, rule, account, price)
        if sized.volume == 0:
            return self._record(signal, order_key, Outcome(status=REJECTED, error=sized.reason))
        log.info(
            "signal %s: %s %d %s (%s sizing%s)",
            signal.signal_id,
            signal.side,
            sized.volume,
            signal.security,
            rule.mode,
            f"; {sized.note}" if sized.note else "",
        )
        if not journaled:
            self._journal.record_placing(
                signal.signal_id,
                order_key,
                signal.security,
                signal.side,
                sized.volume,
                signal.ack_token,
                self._now(),
            )
        outcome = self._executor.place(
            OrderRequest(
                client_order_id=order_key,
                security=signal.security,
                side=signal.side,
                volume=sized.volume,
                limit_price=signal.limit_price,
                reference_price=signal.price,
            )
        )
        return self._record(signal, order_key, outcome)

    # -- helpers ------------------------------------------------------------------------------------

    def _refusal(self, signal: Signal) -> str | None:
        now = self._clock()
        if signal.expires_at is not None and now >= signal.expires_at:
            return f"expired at {to_iso(signal.expires_at)}, pulled at {to_iso(now)}; not executed"
        return None

    def _record(self, signal: Signal, order_key: str, outcome: Outcome) -> Outcome:
        if outcome.executed_at is None and outcome.status != REJECTED:
            outcome = Outcome(
                status=outcome.status,
                broker_order_id=outcome.broker_order_id,
                filled=outcome.filled,
                avg_price=outcome.avg_price,
                executed_at=self._now(),
                error=outcome.error,
            )
        self._journal.record_outcome(signal.signal_id, order_key, outcome, signal.ack_token, self._now())
        if self._after_outcome_recorded is not None:
            self._after_outcome_recorded(signal.signal_id)
        return outcome

    def _now(self) -> str:
        return to_iso(self._clock())
