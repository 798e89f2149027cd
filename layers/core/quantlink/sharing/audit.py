"""The audit log: who did what to which record, when, from where (API.md "Audit log").

Writes go through `Audit.record`, which the admin settings switch off and give a retention (stored as
the entries' TTL). Reads skip entries past retention (DynamoDB deletes TTL'd items late, moto never),
filter, and page newest first with an opaque cursor."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from quantlink.dal import keys
from quantlink.dal.ports import AuditAndSettings
from quantlink.errors import ValidationFailed
from quantlink.ids import new_audit_id
from quantlink.sharing.records import AuditActor, AuditEntry, AuditTarget, Settings
from quantlink.sharing.users import Caller
from quantlink.timeutil import now
from quantlink.views.sharing import AuditPage, AuditView

# A filtered page reads at most this many entries (a rare action must not read years of entries in one
# request): the page may then hold fewer than `limit`, and nextCursor goes on from the last one read.
AUDIT_SCAN_LIMIT = 2000


@dataclass
class Audit:
    """Records the entries of one request, made by `caller`."""

    store: AuditAndSettings
    caller: Caller
    _settings: Settings | None = field(default=None, init=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = self.store.get_settings()
        return self._settings

    def use(self, settings: Settings) -> None:
        """Record under these settings from now on (they just changed)."""
        self._settings = settings

    def record(
        self,
        action: str,
        target_kind: str,
        target_id: str,
        *,
        owner_id: str,
        strategy_id: str | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        also: tuple[str, ...] = (),
        at: datetime | None = None,
    ) -> None:
        """One entry in the owner's log, and in the actor's when that is someone else (and `also`'s)."""
        settings = self.settings
        if not settings.audit_enabled:
            return
        moment = at or now()
        entry = AuditEntry(
            audit_id=new_audit_id(),
            at=moment,
            actor=AuditActor(user_id=self.caller.user_id, email=self.caller.email),
            action=action,
            target=AuditTarget(kind=target_kind, id=target_id),
            strategy_id=strategy_id,
            before=before,
            after=after,
            request_id=self.caller.request_id,
            source_ip=self.caller.source_ip,
            owner_id=owner_id,
        )
        self.store.put_audit_entry(
            entry,
            audiences=[owner_id, self.caller.user_id, *also],
            expires_at=moment + timedelta(days=settings.audit_retention_days),
        )


def _encode_cursor(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        position = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        position = ""
    if not keys.is_audit_position(position):
        raise ValidationFailed(
            "Query parameter 'cursor' must be the nextCursor of a previous page.",
            details=[{"field": "query.cursor", "message": "not a cursor"}],
        )
    return position


@dataclass(frozen=True)
class AuditQuery:
    strategy_id: str | None = None
    actor: str | None = None  # a user id or an email address
    action: str | None = None  # "share.paused", or a category: "share"
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    cursor: str | None = None

    def matches(self, entry: AuditEntry) -> bool:
        if self.strategy_id is not None and entry.strategy_id != self.strategy_id:
            return False
        actor = (entry.actor.user_id, (entry.actor.email or "").lower())
        if self.actor is not None and self.actor.lower() not in actor:
            return False
        return self.action is None or self.action in (entry.action, entry.action.split(".", 1)[0])


def read_audit(store: AuditAndSettings, caller: Caller, query: AuditQuery) -> AuditPage:
    """Newest first: the caller's entries (what it owns or did), every entry for an admin."""
    at = now()
    settings: Settings = store.get_settings()
    oldest = at - timedelta(days=settings.audit_retention_days)
    since = max(query.since, oldest) if query.since else oldest
    until = query.until or at
    before = _decode_cursor(query.cursor) if query.cursor else None
    items: list[AuditView] = []
    entries = store.audit_entries(None if caller.admin else caller.user_id, since=since, until=until, before=before)
    for scanned, (position, entry) in enumerate(entries, start=1):
        if query.matches(entry):
            items.append(AuditView.of(entry))
        if len(items) == query.limit or scanned >= AUDIT_SCAN_LIMIT:
            return AuditPage(items=items, next_cursor=_encode_cursor(position))
    return AuditPage(items=items, next_cursor=None)
