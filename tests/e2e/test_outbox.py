"""The local stack's outbox: what the functions send through SES is kept, listed at GET /local/outbox
(newest last) and printed by `quantlink outbox`, so a person or a test can follow an email's link."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import requests

from quantlink_local.process import RunningStack

SENDER = "noreply@quantlink.local"


def test_sent_emails_are_listed_newest_last_and_printed(local_stack: RunningStack) -> None:
    # Given two emails sent through SES, one with SES v1 (text and HTML), one with SES v2
    marker = uuid.uuid4().hex[:8]
    ses, sesv2 = local_stack.aws("ses"), local_stack.aws("sesv2")
    ses.verify_email_identity(EmailAddress=SENDER)
    ses.send_email(
        Source=SENDER, Destination={"ToAddresses": ["friend@example.com"], "CcAddresses": ["cc@example.com"]},
        Message={"Subject": {"Data": f"Invitation {marker}"},
                 "Body": {"Text": {"Data": f"Open http://127.0.0.1/#/invitations/{marker}"},
                          "Html": {"Data": f"<a href='http://127.0.0.1/#/invitations/{marker}'>Open</a>"}}},
    )  # fmt: skip
    sesv2.send_email(
        FromEmailAddress=SENDER, Destination={"ToAddresses": ["second@example.com"]},
        Content={"Simple": {"Subject": {"Data": f"Second {marker}"}, "Body": {"Text": {"Data": "plain only"}}}},
    )  # fmt: skip
    # When the outbox is read
    entries = requests.get(f"{local_stack.api_base}/local/outbox", timeout=10).json()
    # Then both are there, newest last, with what a reader needs
    mine = [e for e in entries if marker in (e["subject"] or "")]
    assert [e["subject"] for e in mine] == [f"Invitation {marker}", f"Second {marker}"]
    first, second = mine
    assert first["from"] == SENDER and first["to"] == ["friend@example.com"] and first["cc"] == ["cc@example.com"]
    assert first["text"] == f"Open http://127.0.0.1/#/invitations/{marker}"
    assert first["html"].startswith("<a href=")
    assert (second["to"], second["text"], second["html"]) == (["second@example.com"], "plain only", None)
    assert first["sentAt"] <= second["sentAt"]
    assert [e["sentAt"] for e in entries] == sorted(e["sentAt"] for e in entries)
    # and `quantlink outbox` prints them, link included
    assert local_stack.log is not None
    data_dir = str(local_stack.log.parent / "data")
    printed = subprocess.run([sys.executable, "-m", "quantlink.cli", "outbox", "--data-dir", data_dir],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    assert f"Subject  Invitation {marker}" in printed.stdout
    assert f"http://127.0.0.1/#/invitations/{marker}" in printed.stdout
    as_json = subprocess.run([sys.executable, "-m", "quantlink.cli", "outbox", "--json", "--data-dir", data_dir],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert json.loads(as_json.stdout)[-1]["subject"] == f"Second {marker}"


def test_the_outbox_answers_only_reads(local_stack: RunningStack) -> None:
    answer = requests.post(f"{local_stack.api_base}/local/outbox", timeout=10)
    assert answer.status_code == 404 and answer.json()["code"] == "NOT_FOUND"


def test_quantlink_outbox_without_a_stack_says_so(tmp_path: object) -> None:
    result = subprocess.run([sys.executable, "-m", "quantlink.cli", "outbox", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2 and "make run" in result.stderr and "Traceback" not in result.stderr
