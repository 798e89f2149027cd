"""One SQS FIFO queue per terminal. MessageGroupId = strategy keeps per-strategy order;
MessageDeduplicationId = signal id makes a re-driven send harmless."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from quantlink import aws
from quantlink.dal import guarded

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_GONE = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
_BAD_RECEIPT = {"ReceiptHandleIsInvalid", "InvalidParameterValue"}


@dataclass(frozen=True)
class QueueMessage:
    body: str
    receipt_handle: str


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class TerminalQueues:
    def __init__(self, name_prefix: str, client: SQSClient | None = None) -> None:
        self.name_prefix = name_prefix
        self._client = client

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            self._client = guarded(aws.sqs())
        return self._client

    def name_for(self, terminal_id: str) -> str:
        return f"{self.name_prefix}-{terminal_id}.fifo"

    def create(self, terminal_id: str, *, visibility_timeout_seconds: int) -> str:
        answer = self.client.create_queue(
            QueueName=self.name_for(terminal_id),
            Attributes={
                "FifoQueue": "true",
                "ContentBasedDeduplication": "false",
                "VisibilityTimeout": str(visibility_timeout_seconds),
                "MessageRetentionPeriod": str(24 * 3600),
                "ReceiveMessageWaitTimeSeconds": "0",
                "SqsManagedSseEnabled": "true",
            },
            tags={"quantlink:terminal": terminal_id},
        )
        return answer["QueueUrl"]

    def delete(self, queue_url: str) -> None:
        try:
            self.client.delete_queue(QueueUrl=queue_url)
        except ClientError as error:
            if _code(error) not in _GONE:
                raise

    def send(self, queue_url: str, body: str, *, group_id: str, deduplication_id: str) -> None:
        self.client.send_message(
            QueueUrl=queue_url, MessageBody=body, MessageGroupId=group_id, MessageDeduplicationId=deduplication_id
        )

    def receive(self, queue_url: str, *, max_messages: int, wait_seconds: int) -> list[QueueMessage]:
        answer = self.client.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait_seconds
        )
        return [QueueMessage(m["Body"], m["ReceiptHandle"]) for m in answer.get("Messages", [])]

    def delete_message(self, queue_url: str, receipt_handle: str) -> bool:
        """False when the receipt handle is not one this queue issued."""
        try:
            self.client.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt_handle)
        except ClientError as error:
            if _code(error) in _BAD_RECEIPT:
                return False
            raise
        return True
