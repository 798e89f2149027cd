"""Secrets the server must read back (QuantDinger's HMAC signing secret, which cannot be hashed like a token
since checking a signature needs the key itself), stored sealed under a key only the request brings: the
strategy's webhook token, which the table holds only as a hash. A thief of the table (or of a backup) reads
neither the token nor the secret; the webhook, handed the token by the caller, unseals the secret.

Encrypt-then-MAC from HMAC-SHA256 alone (the standard library, nothing on the cold path): two keys derived
from the token and the record's id, a keystream HMAC(k_enc, nonce || counter) XORed with the text, and a tag
HMAC(k_mac, nonce || ciphertext) checked in constant time before anything is decrypted."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

_VERSION = "v1."
_NONCE_BYTES = 16
_TAG_BYTES = 32


def _keys(key_material: str, context: str) -> tuple[bytes, bytes]:
    root = key_material.encode("utf-8")
    return (
        hmac.new(root, f"quantlink sealing v1 encrypt|{context}".encode(), hashlib.sha256).digest(),
        hmac.new(root, f"quantlink sealing v1 mac|{context}".encode(), hashlib.sha256).digest(),
    )


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (length + 31) // 32
    return b"".join(hmac.new(key, nonce + n.to_bytes(4, "big"), hashlib.sha256).digest() for n in range(blocks))


def seal(key_material: str, context: str, text: str) -> str:
    """`text` sealed under `key_material` (a high-entropy secret, e.g. a webhook token), bound to `context`
    (the record's id: a sealed value copied onto another record does not open)."""
    encrypt, mac = _keys(key_material, context)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    plain = text.encode("utf-8")
    cipher = bytes(a ^ b for a, b in zip(plain, _keystream(encrypt, nonce, len(plain)), strict=False))
    tag = hmac.new(mac, nonce + cipher, hashlib.sha256).digest()
    return _VERSION + base64.urlsafe_b64encode(nonce + cipher + tag).decode("ascii")


def unseal(key_material: str, context: str, sealed: str) -> str | None:
    """The text, or None when the key, the context or the sealed value is not the one it was sealed with."""
    if not sealed.startswith(_VERSION):
        return None
    try:
        raw = base64.urlsafe_b64decode(sealed[len(_VERSION) :].encode("ascii"))
    except (binascii.Error, ValueError):
        return None
    if len(raw) < _NONCE_BYTES + _TAG_BYTES:
        return None
    nonce, cipher, tag = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:-_TAG_BYTES], raw[-_TAG_BYTES:]
    encrypt, mac = _keys(key_material, context)
    if not hmac.compare_digest(tag, hmac.new(mac, nonce + cipher, hashlib.sha256).digest()):
        return None
    plain = bytes(a ^ b for a, b in zip(cipher, _keystream(encrypt, nonce, len(cipher)), strict=False))
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        return None
