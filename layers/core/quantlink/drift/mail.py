"""Drift alert emails through SES (the client built lazily, as every AWS client)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantlink import aws
from quantlink.drift.alerts import Alert

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient


class SesMailer:
    def __init__(self, sender: str, client: SESClient | None = None) -> None:
        self.sender = sender
        self._client = client

    def send(self, to: str, alert: Alert) -> None:
        client = self._client or aws.ses()
        client.send_email(
            Source=self.sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": alert.title, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": alert.text, "Charset": "UTF-8"}},
            },
        )
