"""Data access: DynamoDB and SQS behind small interfaces that speak domain models.

One table (keys.py writes its layout down, and builds every key), one store per aggregate over it
(table.py has the shared plumbing), each behind a Protocol in ports.py; store.py's DynamoStore is all
of them at once. A new aggregate adds: its keys to keys.py, a `TableStore` subclass in its own module
(method names unique across stores), its Protocol to ports.py, the class to DynamoStore's bases, and
the same methods to tests/unit/fakes.py's FakeStore, proven alike by tests/integration/test_store_contract.py."""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from quantlink.errors import Unavailable

_C = TypeVar("_C")

# What AWS answers when it is overloaded, after botocore's own retries: the request is safe to
# repeat, so the caller gets 503 UNAVAILABLE (retry) instead of a 500.
THROTTLING = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "RequestThrottled",
        "AWS.SimpleQueueService.RequestThrottled",
    }
)


class _Guarded:
    """Wraps a boto3 client: throttling becomes Unavailable, every other ClientError passes through."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attribute(*args, **kwargs)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in THROTTLING:
                    raise Unavailable("AWS is throttling us; retry in a moment.") from error
                raise

        return call


def guarded(client: _C) -> _C:
    wrapped: _C = _Guarded(client)  # type: ignore[assignment]
    return wrapped


__all__ = ["THROTTLING", "guarded"]
