"""The single table's layout: every key QuantLink writes is built here, and only here.

    pk                  sk                               item                  gsi1 (gsi1pk / gsi1sk)
    STRATEGY#<id>       #META                            Strategy              OWNER#<uid> / STRATEGY#<created>#<id>
    STRATEGY#<id>       DEDUP#<sha256>                   dedup marker (TTL)
    STRATEGY#<id>       SIGNAL#<signalId>                SignalRecord          FANOUT#<n> / <receivedAt>#… (RECEIVED)
    STRATEGY#<id>       SIGNAL#<signalId>#D#<tid>        DeliveryRecord        UNPULLED#<n> / <expiresAt>#… (QUEUED)
    STRATEGY#<id>       SUB#<terminalId>                 Subscription          (the hot path's one Query)
    STRATEGY#<id>       POSITIONS#<at>                   leader position snapshot
    TERMINAL#<id>       #META                            Terminal              OWNER#<uid> / TERMINAL#<created>#<id>
    TERMINAL#<id>       SUB#<strategyId>                 the same subscription seen from the terminal
    TERMINAL#<id>       POSITIONS#<asOf>                 terminal holdings snapshot
    TERMINAL#<id>       DRIFT#<YYYY-MM-DD>               drift report of one trading day
    TERMINAL#<id>       DRIFTCFG                         drift threshold and alert channels
    STRATEGY#<id>       SHARE#<shareId>                  Share                 OWNER#<uid> / SHARE#<created>#<id>
                                                 (and gsi2: gsi2pk / gsi2sk = RECIPIENT#<uid> / SHARE#<created>#<id>)
    STRATEGY#<id>       GRANT#<recipientUserId>          Grant: what the recipient's shares add up to (a version lock)
    USER#<uid>          #META                            User                  USERS / EMAIL#<email lowercased>#<uid>
    SETTINGS            #META                            admin settings (audit on/off, retention)
    INVITATION#<id>     #META                            Invitation            OWNER#<uid> / INVITATION#<created>#<id>
    BUNDLE#<id>         #META                            Bundle                OWNER#<uid> / BUNDLE#<created>#<id>
    BUNDLE#<id>         MEMBER#<uid>                     a member of the bundle
    BUNDLE#<id>         GSHARE#<groupShareId>            a group's share of the bundle (bundle changes reach it)
    GROUP#<id>          #META                            Group                 OWNER#<uid> / GROUP#<created>#<id>
    GROUP#<id>          MEMBER#<uid>                     a member of the group
    GROUP#<id>          GSHARE#<groupShareId>            GroupShare: a strategy or bundle shared to the group
    INVITATION#<id>     USE#<uid>                        one accepting user (an invitation is accepted once per user)
    STRATEGY#<id>       WARNED#<shareId>#<kind>#<end>    an expiry warning sent (once per share, kind and end date)
    DUE                 AT#<end>#<kind>#<id>             a share or invitation that ends then (the expiry sweep)
    AUDIT#<uid>         AT#<at>#<auditId>                AuditEntry, a copy per user it concerns (owner, actor)
                                                 (the owner's copy: AUDIT / AT#<at>#<auditId>, read by admins)

    CONNECTION#<id>     #META                            push WebSocket -> its terminal (TTL)

A newest-first timeline is one Query over `SIGNAL#` .. `SIGNAL$` of the strategy's partition: each
signal's deliveries sort between it and the next signal. The owner's lists are one Query on gsi1.
The sweeper's work lists are sparse gsi1 entries, spread over a few shards so no index partition runs
hot: a signal carries FANOUT#<n> while it waits for its fan-out, a delivery UNPULLED#<n> until it is
pulled or settled (both removed by the write that ends the wait).
A strategy's shares live in its partition (strongly consistent reads when a share change recomputes the
recipient's Grant and rewrites the strategy side of the recipient's subscriptions); a share id carries its
strategy id, so a share is one GetItem. Audit entries carry a `ttl` (the retention), and reads skip
entries past retention, since TTL deletion lags.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from quantlink.timeutil import iso

META = "#META"
SUBSCRIPTION = "SUB#"
SIGNAL = "SIGNAL#"
SIGNALS_END = "SIGNAL$"  # "$" sorts right after "#": the upper bound of every SIGNAL# key
_DELIVERY = "#D#"
_DEDUP = "DEDUP#"
_POSITIONS = "POSITIONS#"
_STRATEGY = "STRATEGY#"
_TERMINAL = "TERMINAL#"
_OWNER = "OWNER#"
_FANOUT = "FANOUT#"
_UNPULLED = "UNPULLED#"
_DRIFT = "DRIFT#"
DRIFT_SETTINGS = "DRIFTCFG"
WORK_SHARDS = 8  # shards of each sweeper work list (a query per shard per sweep)
_SHARE = "SHARE#"
_GRANT = "GRANT#"
_USER = "USER#"
_USERS = "USERS"
_EMAIL = "EMAIL#"
_RECIPIENT = "RECIPIENT#"
_INVITATION = "INVITATION#"
_USE = "USE#"
_AUDIT = "AUDIT#"
_AUDIT_ALL = "AUDIT"
_AT = "AT#"
_BUNDLE = "BUNDLE#"
_MEMBER = "MEMBER#"
_GROUP = "GROUP#"
_GSHARE = "GSHARE#"
GROUP_SHARES = _GSHARE
SETTINGS_PK = "SETTINGS"
DUE_PK = "DUE"
_WARNED = "WARNED#"
MEMBERS = _MEMBER
SHARES = _SHARE
GRANTS = _GRANT
USES = _USE
AUDIT_AT = _AT
EMAILS = _EMAIL
_CONNECTION = "CONNECTION#"


class Owned(StrEnum):
    """The kinds of record an owner lists through gsi1 (the prefix of its gsi1sk)."""

    STRATEGY = "STRATEGY#"
    TERMINAL = "TERMINAL#"
    SHARE = "SHARE#"
    INVITATION = "INVITATION#"
    BUNDLE = "BUNDLE#"
    GROUP = "GROUP#"


def strategy_pk(strategy_id: str) -> str:
    return f"{_STRATEGY}{strategy_id}"


def terminal_pk(terminal_id: str) -> str:
    return f"{_TERMINAL}{terminal_id}"


def connection_pk(connection_id: str) -> str:
    """A push WebSocket's record: which terminal holds it ($disconnect carries no credentials)."""
    return f"{_CONNECTION}{connection_id}"


def owner_gsi1pk(owner_id: str) -> str:
    return f"{_OWNER}{owner_id}"


def owned_gsi1sk(kind: Owned, created_at: datetime, record_id: str) -> str:
    """Sorts an owner's records of one kind by creation time."""
    return f"{kind.value}{iso(created_at)}#{record_id}"


def dedup_sk(dedup_key: str) -> str:
    return f"{_DEDUP}{dedup_key}"


def signal_sk(signal_id: str) -> str:
    return f"{SIGNAL}{signal_id}"


def delivery_sk(signal_id: str, terminal_id: str) -> str:
    return f"{deliveries_prefix(signal_id)}{terminal_id}"


def deliveries_prefix(signal_id: str) -> str:
    return f"{signal_sk(signal_id)}{_DELIVERY}"


def is_delivery_sk(sk: str) -> bool:
    return _DELIVERY in sk


def subscription_sk(other_id: str) -> str:
    """Under a strategy: SUB#<terminalId>; under a terminal: SUB#<strategyId>."""
    return f"{SUBSCRIPTION}{other_id}"


def subscribed_id(sk: str) -> str:
    """The id a SUB# sort key points at (the inverse of subscription_sk)."""
    return sk.removeprefix(SUBSCRIPTION)


def positions_sk(at: datetime) -> str:
    return f"{_POSITIONS}{iso(at)}"


def _shard(record_id: str) -> int:
    return sum(record_id.encode()) % WORK_SHARDS


def fanout_gsi1pk(signal_id: str) -> str:
    return f"{_FANOUT}{_shard(signal_id)}"


def fanout_shards() -> list[str]:
    return [f"{_FANOUT}{n}" for n in range(WORK_SHARDS)]


def fanout_gsi1sk(received_at: datetime, signal_id: str) -> str:
    return f"{iso(received_at)}#{signal_id}"


def unpulled_gsi1pk(signal_id: str, terminal_id: str) -> str:
    return f"{_UNPULLED}{_shard(signal_id + terminal_id)}"


def unpulled_shards() -> list[str]:
    return [f"{_UNPULLED}{n}" for n in range(WORK_SHARDS)]


def unpulled_gsi1sk(expires_at: datetime, signal_id: str, terminal_id: str) -> str:
    return f"{iso(expires_at)}#{signal_id}#{terminal_id}"


def time_bound(moment: datetime) -> str:
    """The gsi1sk of every work-list entry dated before `moment` sorts below this."""
    return iso(moment)


def positions_range(start: datetime, end: datetime) -> tuple[str, str]:
    """Sort keys of the snapshots taken in [start, end)."""
    return positions_sk(start), positions_sk(end)


def drift_sk(day: date) -> str:
    return f"{_DRIFT}{day.isoformat()}"


def drift_prefix() -> str:
    return _DRIFT


# ---- sharing ----------------------------------------------------------------------------------------


def share_sk(share_id: str) -> str:
    return f"{_SHARE}{share_id}"


def grant_sk(recipient_id: str) -> str:
    return f"{_GRANT}{recipient_id}"


def recipient_gsi2pk(user_id: str) -> str:
    return f"{_RECIPIENT}{user_id}"


def user_pk(user_id: str) -> str:
    return f"{_USER}{user_id}"


def users_gsi1pk() -> str:
    return _USERS


def user_email_gsi1sk(email: str, user_id: str = "") -> str:
    """Users by address (lowercased); without a user id, the prefix every user of that address has."""
    return f"{_EMAIL}{email.lower()}#{user_id}"


def invitation_pk(invitation_id: str) -> str:
    return f"{_INVITATION}{invitation_id}"


def use_sk(user_id: str) -> str:
    return f"{_USE}{user_id}"


def audit_pk(user_id: str) -> str:
    return f"{_AUDIT}{user_id}"


def audit_all_gsi1pk() -> str:
    return _AUDIT_ALL


def audit_sk(at: datetime, audit_id: str) -> str:
    """Sorts by time: a newest-first page is one Query."""
    return f"{_AT}{iso(at)}#{audit_id}"


def is_audit_position(text: str) -> bool:
    """What audit_sk builds (a paging cursor a client hands back)."""
    return text.startswith(_AT) and len(text) <= 200


def audit_bound(at: datetime) -> str:
    return f"{_AT}{iso(at)}"


def bundle_pk(bundle_id: str) -> str:
    return f"{_BUNDLE}{bundle_id}"


def member_sk(user_id: str) -> str:
    return f"{_MEMBER}{user_id}"


def group_pk(group_id: str) -> str:
    return f"{_GROUP}{group_id}"


def group_share_sk(group_share_id: str) -> str:
    return f"{_GSHARE}{group_share_id}"


def due_sk(at: datetime, kind: str, record_id: str) -> str:
    """What ends when: the sweep reads DUE up to a time (one Query)."""
    return f"{_AT}{iso(at)}#{kind}#{record_id}"


def due_parts(sk: str) -> tuple[str, str]:
    """(kind, id) of a due_sk."""
    _, _, kind, record_id = sk.split("#", 3)
    return kind, record_id


def warned_sk(share_id: str, kind: str, end: datetime) -> str:
    return f"{_WARNED}{share_id}#{kind}#{iso(end)}"
