"""The terminals' push WebSockets, as the webhook reaches them: API Gateway's PostToConnection.

A connection that has gone away answers 410 GoneException: `post` says so (False) and the caller
forgets the connection; any other failure raises (the signal still waits in the terminal's queue)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from quantlink import aws
from quantlink.dal import guarded

_GONE = {"GoneException"}


class PushConnections:
    def __init__(self, endpoint_url: str, client: Any | None = None) -> None:
        self.endpoint_url = endpoint_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = guarded(aws.push_management(self.endpoint_url))
        return self._client

    def post(self, connection_id: str, data: bytes) -> bool:
        """Send one text frame; False when the connection is gone."""
        try:
            self.client.post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code", "")) in _GONE:
                return False
            raise
        return True
