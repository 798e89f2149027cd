"""The local stack's outbox: every email the functions sent through SES (moto keeps them instead of
delivering them), so a person or a test can read an invitation and click its link.

moto's server side (`patch_ses`, `sent_emails`) runs in the moto process: it stamps each sent
message with its time and both bodies (moto keeps one), and lists them. The gateway answers
`GET /local/outbox` from it; `quantlink outbox` prints that."""

from __future__ import annotations

import datetime
import email
import email.policy
import functools
import json
import threading
from collections.abc import Callable
from typing import Any

MOTO_PATH = "/quantlink-local/outbox"  # on the moto server
GATEWAY_PATH = "/local/outbox"  # on the API emulator

_parts = threading.local()  # the bodies of the send being answered, from the request


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def _stamping(send: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(send)
    def stamped(*args: Any, **kwargs: Any) -> Any:
        message = send(*args, **kwargs)
        message.quantlink_sent_at = _now()
        message.quantlink_parts = getattr(_parts, "value", None)
        return message

    return stamped


def _with_parts(answer: Callable[..., Any], parts: Callable[[Any], dict[str, str | None]]) -> Callable[..., Any]:
    @functools.wraps(answer)
    def answered(self: Any) -> Any:
        try:
            _parts.value = parts(self)
        except (ValueError, AttributeError, TypeError):
            _parts.value = None
        try:
            return answer(self)
        finally:
            _parts.value = None

    return answered


def _v1_parts(response: Any) -> dict[str, str | None]:
    return {
        "text": response._get_param("Message.Body.Text.Data"),
        "html": response._get_param("Message.Body.Html.Data"),
    }


def _v2_parts(response: Any) -> dict[str, str | None]:
    body = json.loads(response.body).get("Content", {}).get("Simple", {}).get("Body", {})
    return {"text": body.get("Text", {}).get("Data"), "html": body.get("Html", {}).get("Data")}


def patch_ses() -> Callable[[], None]:
    """Stamp every sent message (moto process); returns a function that undoes it (tests)."""
    from moto.ses.models import SESBackend
    from moto.ses.responses import EmailResponse
    from moto.sesv2.responses import SESV2Response

    originals: list[tuple[type, str, Any]] = []
    for name in ("send_email", "send_templated_email", "send_raw_email"):
        originals.append((SESBackend, name, getattr(SESBackend, name)))
        setattr(SESBackend, name, _stamping(getattr(SESBackend, name)))
    for response, parts in ((EmailResponse, _v1_parts), (SESV2Response, _v2_parts)):
        originals.append((response, "send_email", response.send_email))
        response.send_email = _with_parts(response.send_email, parts)  # type: ignore[method-assign]

    def undo() -> None:
        for owner, name, member in originals:
            setattr(owner, name, member)

    return undo


def _addresses(destinations: Any, kind: str) -> list[str]:
    if isinstance(destinations, dict):
        return list(destinations.get(kind) or [])
    return list(destinations or []) if kind == "ToAddresses" else []


def describe(message: Any) -> dict[str, Any]:
    """One sent message as the outbox shows it: to, cc, from, subject, text, html, sentAt."""
    parts = getattr(message, "quantlink_parts", None) or {}
    entry: dict[str, Any] = {
        "messageId": getattr(message, "id", None),
        "from": message.source,
        "to": _addresses(message.destinations, "ToAddresses"),
        "cc": _addresses(message.destinations, "CcAddresses"),
        "subject": getattr(message, "subject", None),
        "text": parts.get("text"),
        "html": parts.get("html"),
        "sentAt": getattr(message, "quantlink_sent_at", None),
    }
    raw = getattr(message, "raw_data", None)
    if raw is not None:  # SendRawEmail: the MIME message itself
        parsed = email.message_from_string(raw, policy=email.policy.default)
        entry["subject"] = str(parsed.get("Subject", "")) or None
        entry["from"] = str(parsed.get("From", "")) or entry["from"]
        for kind, field in (("text", "plain"), ("html", "html")):
            body = parsed.get_body(preferencelist=(field,))  # type: ignore[attr-defined]
            entry[kind] = body.get_content() if body is not None else None
    elif not parts and hasattr(message, "body"):  # sent before the stamping existed
        entry["html" if str(message.body).lstrip().startswith("<") else "text"] = message.body
    elif hasattr(message, "template"):
        entry["subject"] = entry["subject"] or f"(template {message.template})"
        entry["text"] = message.template_data
    return entry


def sent_emails() -> list[dict[str, Any]]:
    """Every message every SES backend sent, oldest first (moto process)."""
    from moto.ses.models import ses_backends

    entries = [
        describe(message)
        for _, _, backend in ses_backends.iter_backends()
        for message in getattr(backend, "sent_messages", [])
    ]
    return sorted(entries, key=lambda entry: entry["sentAt"] or "")


def render(entries: list[dict[str, Any]]) -> str:
    """The outbox for a terminal, newest last."""
    if not entries:
        return "The outbox is empty: the local stack has sent no email yet.\n"
    blocks = []
    for entry in entries:
        lines = [
            f"Sent     {entry.get('sentAt') or '?'}",
            f"From     {entry.get('from')}",
            f"To       {', '.join(entry.get('to') or [])}",
            f"Subject  {entry.get('subject') or ''}",
            "",
            (entry.get("text") or entry.get("html") or "").rstrip(),
        ]
        blocks.append("\n".join(lines))
    return ("\n" + "-" * 72 + "\n").join(blocks) + "\n"
