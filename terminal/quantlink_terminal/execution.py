"""Exactly-once execution of one signal: journal first, then the broker, then the outcome."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from typing import Callable

from quantlink_terminal.activity import ActivityLog
from quantlink_terminal.clock import Clock, parse_iso, system_clock, to_iso
from quantlink_terminal.executions import ACKED, DONE, PLACING, ExecutionJournal, JournalEntry
from quantlink_terminal.executors.base import Executor, OrderRequest, OrderStateUnknown
from quantlink_terminal.instruments import round_limit_price
from quantlink_terminal.models import FAILED, REJECTED, Outcome, Signal
from quantlink_terminal.reasons import Reason
from quantlink_terminal.risk import RiskGuard
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
        journal: ExecutionJournal,
        executor: Executor,
        sizing: SizingRule,
        risk: RiskGuard,
        clock: Clock = system_clock,
        after_outcome_recorded: OutcomeHook | None = None,
        activity: ActivityLog | None = None,
    ) -> None:
        self._journal = journal
        self._executor = executor
        self._sizing = sizing
        self._risk = risk
        self._clock = clock
        # Test seam: the e2e test makes the agent die right here, between execution and ack.
        self._after_outcome_recorded = after_outcome_recorded
        self._activity = activity or ActivityLog()

    def run(self, signal: Signal) -> Outcome:
        """The outcome to ack; afterwards the journal holds it as DONE with this signal's ack token.
        May raise ExecutorUnavailable: the signal is then left unacked and comes back later."""
        entry = self._journal.get(signal.signal_id)
        if entry is not None and entry.state in (DONE, ACKED) and entry.outcome is not None:
            self._activity.received(signal, redelivery=True)
            log.info(
                "signal %s was already handled (%s); acking it from the journal, not executing it again",
                signal.signal_id,
                entry.outcome.status,
            )
            self._journal.remember_ack_token(signal.signal_id, signal.ack_token, self._now())
            return entry.outcome
        self._activity.received(signal)
        if entry is not None and entry.state == PLACING:
            return self._reconcile(signal, entry)
        return self._execute(signal, journaled=False)

    # -- the paths ----------------------------------------------------------------------------------

    def _reconcile(self, signal: Signal, entry: JournalEntry) -> Outcome:
        """The agent stopped after journaling this order but before recording its outcome: the order may or
        may not have reached the broker. Ask the broker before deciding; never place blindly."""
        journaled_day = parse_iso(entry.created_at).date()
        try:
            found = self._executor.find_order(entry.client_order_id)
        except OrderStateUnknown as exc:
            return self._record(
                signal,
                entry.client_order_id,
                Outcome.refused(
                    FAILED,
                    Reason(
                        "order_state_unknown",
                        f"the agent stopped while placing this order and the broker could not say whether it "
                        f"arrived ({exc}); not placed again: check the order list in QMT",
                        f"下单过程中程序中断，券商无法确认该委托是否已报（{exc}）；"
                        "为防重复下单未再次下单，请在 QMT 中核对当日委托",
                    ),
                ),
            )
        if found is not None:
            log.warning(
                "signal %s: recovered the outcome of order %s placed before a restart (%s)",
                signal.signal_id,
                entry.client_order_id,
                found.status,
            )
            return self._record(signal, entry.client_order_id, found)
        if journaled_day != self._clock().date():
            # Broker order queries only cover today: absence proves nothing about an earlier day.
            return self._record(
                signal,
                entry.client_order_id,
                Outcome.refused(
                    FAILED,
                    Reason(
                        "order_state_unknown",
                        f"the agent stopped while placing this order on {journaled_day}; no order with "
                        f"remark {entry.client_order_id} is visible today, so it was not placed again. "
                        "Check the broker's order history.",
                        f"{journaled_day} 下单过程中程序中断；今日查不到备注为 "
                        f"{entry.client_order_id} 的委托，为防重复下单未再次下单，请核对券商历史委托",
                    ),
                ),
            )
        log.warning("signal %s: journaled but never reached the broker; placing it now", signal.signal_id)
        return self._execute(signal, journaled=True)

    def _execute(self, signal: Signal, journaled: bool) -> Outcome:
        order_key = client_order_id(signal.signal_id)
        refusal = (
            self._expired(signal)
            or self._executor.refuses(signal.security)
            or self._risk.before_sizing(signal, self._clock())
        )
        if refusal is not None:
            return self._record(signal, order_key, Outcome.refused(REJECTED, refusal))
        try:
            rule = self._sizing.overridden_by(signal.sizing)
        except (SizingError, TypeError, ValueError) as exc:
            reason = Reason("sizing.bad_sizing", f"bad sizing: {exc}", f"跟单比例设置有误：{exc}")
            return self._record(signal, order_key, Outcome.refused(REJECTED, reason))
        limit_price = None
        if signal.limit_price is not None:
            limit_price = round_limit_price(signal.security, signal.side, signal.limit_price)
            if limit_price <= 0:
                reason = Reason(
                    "bad_limit_price",
                    f"limit price {signal.limit_price} is below one tick of {signal.security}",
                    f"限价 {signal.limit_price} 低于 {signal.security} 的最小价位",
                )
                return self._record(signal, order_key, Outcome.refused(REJECTED, reason))
        account = self._executor.account()
        price = limit_price or signal.price or self._executor.last_price(signal.security)
        sized = size_order(signal, rule, account, price)
        if sized.volume == 0:
            assert sized.reason is not None
            return self._record(signal, order_key, Outcome.refused(REJECTED, sized.reason))
        bought_today = self._journal.bought_value_on(self._clock().date(), excluding=signal.signal_id)
        refusal = self._risk.before_placing(signal, sized.volume, price, account, bought_today)
        if refusal is not None:
            return self._record(signal, order_key, Outcome.refused(REJECTED, refusal))
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
                strategy_id=signal.strategy_id,
                amount=signal.amount,
                price=price,
                origin=signal.origin,
                close_all=signal.close_all,
            )
        order = OrderRequest(
            client_order_id=order_key,
            security=signal.security,
            side=signal.side,
            volume=sized.volume,
            limit_price=limit_price,
            reference_price=signal.price,
        )
        self._activity.order_sent(signal, order)
        return self._record(signal, order_key, self._executor.place(order))

    # -- helpers ------------------------------------------------------------------------------------

    def _expired(self, signal: Signal) -> Reason | None:
        now = self._clock()
        if signal.expires_at is None or now < signal.expires_at:
            return None
        expired, pulled = to_iso(signal.expires_at), to_iso(now)
        return Reason(
            "expired",
            f"expired at {expired}, pulled at {pulled}; not executed",
            f"信号已于 {expired} 过期（{pulled} 收到），未执行",
        )

    def _record(self, signal: Signal, order_key: str, outcome: Outcome) -> Outcome:
        if outcome.executed_at is None and outcome.status != REJECTED:
            outcome = replace(outcome, executed_at=self._now())
        self._journal.record_outcome(
            signal.signal_id,
            order_key,
            outcome,
            signal.ack_token,
            self._now(),
            strategy_id=signal.strategy_id,
            security=signal.security,
            side=signal.side,
            amount=signal.amount,
            origin=signal.origin,
            close_all=signal.close_all,
        )
        self._activity.outcome(signal, outcome)
        if self._after_outcome_recorded is not None:
            self._after_outcome_recorded(signal.signal_id)
        return outcome

    def _now(self) -> str:
        return to_iso(self._clock())
