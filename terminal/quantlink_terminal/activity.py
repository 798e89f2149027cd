"""What the agent did, for the trader: one plain line per event on the console (English | 中文) and one JSON
object per line in the activity log, a file a trader can send to support. Tokens never appear in either."""

from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any

from quantlink_terminal.clock import Clock, system_clock, to_iso
from quantlink_terminal.executors.base import OrderRequest
from quantlink_terminal.models import EXECUTED, ORIGIN_SOURCE, ORIGIN_SYNC, REJECTED, Outcome, Signal

log = logging.getLogger("quantlink_terminal.activity")

MAX_BYTES = 5 * 1024 * 1024  # then the file moves to <name>.1 (one generation kept)

_SIDE_ZH = {"buy": "买入", "sell": "卖出"}
_STATUS_ZH = {"executed": "已执行", "failed": "失败", "rejected": "已拒绝"}


def _describe(signal: Signal) -> tuple[str, str]:
    if signal.limit_price is not None:
        en_price, zh_price = f"limit {signal.limit_price}", f"限价 {signal.limit_price}"
    else:
        en_price, zh_price = "at market", "市价"
    side_zh = _SIDE_ZH.get(signal.side, signal.side)
    if signal.close_all:
        en = f"{signal.side} all sellable {signal.security} (leader's count {signal.amount}) {en_price}"
        zh = f"{side_zh} {signal.security} 全部可卖持仓（策略数量 {signal.amount} 股），{zh_price}"
    else:
        en = f"{signal.side} {signal.amount} {signal.security} {en_price}"
        zh = f"{side_zh} {signal.security} {signal.amount} 股，{zh_price}"
    if signal.origin != ORIGIN_SOURCE:
        en, zh = f"{en} [{origin_label(signal.origin)}]", f"{zh}【{origin_label_zh(signal.origin)}】"
    return en, zh


def origin_label(origin: str) -> str:
    """How a trader reads a signal's origin: "sync" is a drift repair the strategy owner approved."""
    return "drift sync" if origin == ORIGIN_SYNC else origin


def origin_label_zh(origin: str) -> str:
    return "持仓同步" if origin == ORIGIN_SYNC else origin


class ActivityLog:
    def __init__(self, path: str | None = None, clock: Clock = system_clock) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()

    # -- events -------------------------------------------------------------------------------------

    def started(self, version: str, executor: str, api_base: str) -> None:
        self._write({"event": "agent_started", "version": version, "executor": executor, "apiBase": api_base})

    def stopped(self) -> None:
        self._write({"event": "agent_stopped"})

    def received(self, signal: Signal, redelivery: bool = False) -> None:
        en, zh = _describe(signal)
        again_en, again_zh = (
            (" again (already handled)", "（重复送达，已处理过）") if redelivery else ("", "")
        )
        log.info(
            "signal %s received%s: %s (strategy %s, seq %d) | 收到信号%s：%s",
            signal.signal_id, again_en, en, signal.strategy_id, signal.seq, again_zh, zh,
        )  # fmt: skip
        self._write(
            {
                "event": "signal_received",
                "signalId": signal.signal_id,
                "strategyId": signal.strategy_id,
                "seq": signal.seq,
                "security": signal.security,
                "side": signal.side,
                "amount": signal.amount,
                "price": signal.price,
                "limitPrice": signal.limit_price,
                "closeAll": signal.close_all,
                "origin": signal.origin,
                "redelivery": redelivery,
            }
        )

    def order_sent(self, signal: Signal, order: OrderRequest) -> None:
        self._write(
            {
                "event": "order_sent",
                "signalId": signal.signal_id,
                "clientOrderId": order.client_order_id,
                "security": order.security,
                "side": order.side,
                "volume": order.volume,
                "limitPrice": order.limit_price,
            }
        )

    def outcome(self, signal: Signal, outcome: Outcome) -> None:
        status_zh = _STATUS_ZH.get(outcome.status, outcome.status)
        if outcome.status == EXECUTED:
            detail = f"filled {outcome.filled} @ {outcome.avg_price} (order {outcome.broker_order_id})"
            zh = f"成交 {outcome.filled} 股，均价 {outcome.avg_price}（委托号 {outcome.broker_order_id}）"
            if outcome.error:
                detail, zh = f"{detail}; {outcome.error}", f"{zh}；{outcome.error}"
            log.info(
                "signal %s executed: %s | 信号 %s %s：%s",
                signal.signal_id,
                detail,
                signal.signal_id,
                status_zh,
                zh,
            )
        else:
            level = logging.WARNING if outcome.status == REJECTED else logging.ERROR
            log.log(level, "signal %s %s: %s", signal.signal_id, outcome.status, outcome.error)
        self._write(
            {
                "event": "signal_outcome",
                "signalId": signal.signal_id,
                "strategyId": signal.strategy_id,
                "security": signal.security,
                "side": signal.side,
                "origin": signal.origin,
                "status": outcome.status,
                "code": outcome.code,
                "reason": outcome.error,
                "brokerOrderId": outcome.broker_order_id,
                "filled": outcome.filled,
                "avgPrice": outcome.avg_price,
            }
        )

    def acked(self, signal_id: str, status: str) -> None:
        log.info("acked %s: %s", signal_id, status)
        self._write({"event": "signal_acked", "signalId": signal_id, "status": status})

    def executor_unavailable(self, executor: str, message: str, fix: str) -> None:
        self._write({"event": "executor_unavailable", "executor": executor, "message": message, "fix": fix})

    def note(self, event: str, **fields: Any) -> None:
        self._write({"event": event, **fields})

    # -- the file -----------------------------------------------------------------------------------

    def _write(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        line = json.dumps({"at": to_iso(self._clock()), **record}, ensure_ascii=False, sort_keys=True)
        with self._lock:
            try:
                self._rotate_if_full()
                with open(self.path, "a", encoding="utf-8") as handle:
                    handle.write(line + "\n")
            except OSError as exc:
                # The activity log is for people; a full disk must not stop the trading it describes.
                log.warning("cannot write the activity log %s: %s", self.path, exc)

    def _rotate_if_full(self) -> None:
        assert self.path is not None
        try:
            if os.path.getsize(self.path) < MAX_BYTES:
                return
        except FileNotFoundError:
            return
        os.replace(self.path, self.path + ".1")


def read_activity(path: str) -> list[dict[str, Any]]:
    """The events in an activity log (unreadable lines skipped: a crash can cut the last one short)."""
    events = []
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    events.append(event)
    except FileNotFoundError:
        return []
    return events
