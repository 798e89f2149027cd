"""Email through SES (the moto server's SES on the local stack, where `GET /local/outbox` shows it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantlink import aws
from quantlink.dal import guarded

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient


class SesMailer:
    """Sends from `sender` (the template's AWS::SES::EmailIdentity); the client is built on first use."""

    def __init__(self, sender: str, client: SESClient | None = None) -> None:
        self.sender = sender
        self._client = client

    @property
    def client(self) -> SESClient:
        if self._client is None:
            self._client = guarded(aws.ses())
        return self._client

    def send_email(self, to: str, subject: str, text: str) -> None:
        self.client.send_email(
            Source=self.sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
            },
        )
