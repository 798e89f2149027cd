"""Identifiers and secrets. Signal ids sort by creation time (newest-first timelines are one Query);
tokens carry their owner's id so authentication is a single GetItem, and only their hash is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"

STRATEGY_PREFIX = "stg_"
TERMINAL_PREFIX = "trm_"
SIGNAL_PREFIX = "sig_"
WEBHOOK_TOKEN_PREFIX = "qlw_"
SHARE_PREFIX = "shr_"
INVITATION_PREFIX = "inv_"
AUDIT_PREFIX = "aud_"
BUNDLE_PREFIX = "sg_"
GROUP_PREFIX = "grp_"
GROUP_SHARE_PREFIX = "gsh_"
_STRATEGY_RANDOM = 16


def _base32(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))


def _random_part(width: int) -> str:
    return _base32(secrets.randbits(5 * width), width)


_MAX_ID_LENGTH = 64


def is_id(value: str, prefix: str) -> bool:
    """Ours, and short enough to be a key: anything else cannot exist, so it is never looked up."""
    return value.startswith(prefix) and len(value) <= _MAX_ID_LENGTH


def new_strategy_id() -> str:
    return STRATEGY_PREFIX + _random_part(_STRATEGY_RANDOM)


def new_share_id(strategy_id: str) -> str:
    """Carries its strategy's id (a share lives in its strategy's partition: one GetItem)."""
    return SHARE_PREFIX + strategy_id.removeprefix(STRATEGY_PREFIX) + _random_part(10)


def strategy_of_share(share_id: str) -> str | None:
    if not is_id(share_id, SHARE_PREFIX) or len(share_id) != len(SHARE_PREFIX) + _STRATEGY_RANDOM + 10:
        return None
    return STRATEGY_PREFIX + share_id[len(SHARE_PREFIX) : len(SHARE_PREFIX) + _STRATEGY_RANDOM]


def new_invitation_id() -> str:
    return INVITATION_PREFIX + _random_part(16)


def new_invitation_token(invitation_id: str) -> str:
    """ "<invitationId>.<secret>", URL-safe: accepting finds the invitation with one GetItem, then
    compares the secret's hash in constant time."""
    return f"{invitation_id}.{secrets.token_urlsafe(32)}"


def invitation_id_from_token(token: str) -> str | None:
    invitation_id, sep, secret = token.partition(".")
    if not sep or not secret or not is_id(invitation_id, INVITATION_PREFIX):
        return None
    return invitation_id


def new_bundle_id() -> str:
    """A bundle's code (API.md: `sg_…`)."""
    return BUNDLE_PREFIX + _random_part(12)


def new_group_id() -> str:
    return GROUP_PREFIX + _random_part(12)


def new_group_share_id() -> str:
    return GROUP_SHARE_PREFIX + _random_part(12)


def new_audit_id() -> str:
    return AUDIT_PREFIX + _random_part(16)


def new_terminal_id() -> str:
    return TERMINAL_PREFIX + _random_part(16)


def new_signal_id(epoch_ms: int | None = None) -> str:
    """ULID-like: 10 chars of milliseconds then 12 random chars, so ids sort by time."""
    millis = int(time.time() * 1000) if epoch_ms is None else epoch_ms
    return SIGNAL_PREFIX + _base32(millis, 10) + _random_part(12)


def first_signal_id(epoch_ms: int) -> str:
    """A bound that sorts before every signal id of that millisecond and after every earlier one."""
    return SIGNAL_PREFIX + _base32(epoch_ms, 10)


def new_webhook_token() -> str:
    return WEBHOOK_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_terminal_token(terminal_id: str) -> str:
    # "<terminalId>.<secret>": the pull handler finds the terminal without a lookup table.
    return f"{terminal_id}.{secrets.token_urlsafe(32)}"


def terminal_id_from_token(token: str) -> str | None:
    terminal_id, sep, secret = token.partition(".")
    if not sep or not secret or not is_id(terminal_id, TERMINAL_PREFIX):
        return None
    return terminal_id


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# Compared against when the record does not exist, so a miss costs the same as a mismatch.
_ABSENT_HASH = hash_secret("absent")


def secret_matches(secret: str, stored_hash: str | None) -> bool:
    expected = stored_hash if stored_hash is not None else _ABSENT_HASH
    matches = hmac.compare_digest(hash_secret(secret), expected)
    return matches and stored_hash is not None
