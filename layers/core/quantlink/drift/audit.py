"""Where drift writes its audit entries (`drift.alert_sent`, `drift.sync_sent`). One function, so it can
point at the audit store once that lands (the `sharing` work adds it); until then each entry is one
structured log line (CloudWatch keeps it), which is all this function does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from quantlink.observability import logger
from quantlink.timeutil import iso


def record_drift_audit(
    action: str, *, actor: str | None, terminal_id: str, at: datetime, after: dict[str, Any] | None = None
) -> None:
    logger.info(
        "audit",
        extra={
            "audit": {
                "action": action,
                "actor": {"userId": actor},
                "target": {"kind": "terminal", "id": terminal_id},
                "at": iso(at),
                "after": after or {},
            }
        },
    )
