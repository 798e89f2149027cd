"""`quantlink-terminal status`: what the agent did, read from its journal, for the trader at the PC.

Read-only and safe while the agent runs: it shows whether trading is paused, the market's state, today's
orders and refusals, and the last signals with the reason for each one that was not executed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from quantlink_terminal.activity import origin_label
from quantlink_terminal.calendar import MarketCalendar
from quantlink_terminal.clock import to_iso
from quantlink_terminal.journal import ACKED, PLACING, Journal, JournalEntry
from quantlink_terminal.models import EXECUTED, FAILED, ORIGIN_SOURCE, REJECTED
from quantlink_terminal.pause import PauseSwitch
from quantlink_terminal.reasons import money


@dataclass(frozen=True)
class StatusReport:
    now: str
    journal: str
    paused: dict[str, Any] | None
    market_open: bool
    next_open: str | None
    today: dict[str, Any]
    unacked: int
    signals: list[dict[str, Any]]
    delivery: str | None = None  # push, or long-poll (and why), as the running agent last noted

    def as_json(self) -> dict[str, Any]:
        return {
            "now": self.now,
            "journal": self.journal,
            "paused": self.paused,
            "marketOpen": self.market_open,
            "nextOpen": self.next_open,
            "today": self.today,
            "unacked": self.unacked,
            "signals": self.signals,
            "delivery": self.delivery,
        }


def _status_of(entry: JournalEntry) -> str:
    if entry.state == PLACING:
        return "placing"
    return entry.outcome.status if entry.outcome is not None else entry.state


def _row(entry: JournalEntry) -> dict[str, Any]:
    outcome = entry.outcome
    return {
        "signalId": entry.signal_id,
        "at": entry.created_at,
        "strategyId": entry.strategy_id,
        "security": entry.security,
        "side": entry.side,
        "amount": entry.amount,
        "volume": entry.volume,
        "closeAll": entry.close_all,
        "origin": entry.origin or ORIGIN_SOURCE,
        "status": _status_of(entry),
        "code": outcome.code if outcome else None,
        "reason": outcome.error if outcome else None,
        "filled": outcome.filled if outcome else None,
        "avgPrice": outcome.avg_price if outcome else None,
        "brokerOrderId": outcome.broker_order_id if outcome else None,
        "acked": entry.state == ACKED,
    }


def build_status(
    journal_path: str, pause: PauseSwitch, calendar: MarketCalendar, now: datetime, limit: int = 10
) -> StatusReport:
    journal = Journal(journal_path)
    try:
        today = journal.on_day(now.date())
        recent = journal.recent(limit)
        bought = journal.bought_value_on(now.date())
        unacked = journal.unacked_count()
        delivery = journal.get_meta("delivery_mode")
    finally:
        journal.close()
    statuses = [_status_of(entry) for entry in today]
    paused = pause.state()
    market_open = calendar.in_session(now)
    return StatusReport(
        now=to_iso(now),
        journal=journal_path,
        paused=None if paused is None else {"since": paused.since, "reason": paused.reason},
        market_open=market_open,
        next_open=None if market_open else to_iso(calendar.next_open(now)),
        today={
            "date": now.date().isoformat(),
            "signals": len(today),
            "executed": statuses.count(EXECUTED),
            "failed": statuses.count(FAILED),
            "refused": statuses.count(REJECTED),
            "placing": statuses.count("placing"),
            "sync": sum(1 for entry in today if entry.origin not in (None, ORIGIN_SOURCE)),
            "boughtValue": round(bought, 2),
        },
        unacked=unacked,
        signals=[_row(entry) for entry in recent],
        delivery=delivery,
    )


def render(report: StatusReport, out: TextIO) -> None:
    out.write(f"QuantLink terminal status at {report.now} (journal {report.journal})\n")
    if report.paused is not None:
        since = f" since {report.paused['since']}" if report.paused["since"] else ""
        why = f": {report.paused['reason']}" if report.paused["reason"] else ""
        out.write(f"Trading: PAUSED{since}{why} | 已暂停交易 (quantlink-terminal resume)\n")
    else:
        out.write("Trading: on | 交易中\n")
    if report.delivery:
        out.write(f"Delivery: {report.delivery}\n")
    if report.market_open:
        out.write("Market: open | 开市中\n")
    else:
        out.write(
            f"Market: closed, next session {report.next_open} | 休市，下一交易时段 {report.next_open}\n"
        )
    today = report.today
    out.write(
        f"Today {today['date']}: {today['signals']} signal(s): {today['executed']} executed, "
        f"{today['failed']} failed, {today['refused']} refused, {today['placing']} being placed; "
        f"bought {money(today['boughtValue'])} CNY | 今日信号 {today['signals']} 条："
        f"执行 {today['executed']}，失败 {today['failed']}，拒绝 {today['refused']}；"
        f"买入 {money(today['boughtValue'])} 元\n"
    )
    if today["sync"]:
        out.write(
            f"  of which {today['sync']} drift sync (orders of an owner-approved drift repair) | "
            f"其中持仓同步 {today['sync']} 条\n"
        )
    if report.unacked:
        out.write(
            f"{report.unacked} outcome(s) not yet acknowledged to QuantLink (sent when it is reachable)\n"
        )
    out.write(f"Last {len(report.signals)} signal(s), newest first | 最近信号:\n")
    for row in report.signals:
        amount = "?" if row["amount"] is None else row["amount"]
        if row["closeAll"]:
            amount = f"ALL (leader {amount})"
        order = f"{row['side'] or '?'} {amount} {row['security'] or '?'}"
        if row["origin"] != ORIGIN_SOURCE:
            order += f" [{origin_label(row['origin'])}]"
        detail = ""
        if row["status"] == EXECUTED:
            detail = f"filled {row['filled']} @ {row['avgPrice']} (order {row['brokerOrderId']})"
            if row["reason"]:
                detail += f"; {row['reason']}"
        elif row["reason"]:
            detail = row["reason"]
        out.write(f"  {row['at']}  {row['signalId']}  {order}  {row['status'].upper()}  {detail}\n")


def write_json(report: StatusReport, out: TextIO) -> None:
    out.write(json.dumps(report.as_json(), ensure_ascii=False, indent=2) + "\n")
