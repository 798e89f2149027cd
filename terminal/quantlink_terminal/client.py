"""HTTP client for the terminal half of the QuantLink API (API.md), on urllib only."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any, Mapping

from quantlink_terminal import __version__

FINGERPRINT_HEADER = "X-Device-Fingerprint"
MAX_ACKS_PER_REQUEST = 10
MAX_PULL_WAIT = 20
_LONG_POLL_GRACE_SECONDS = 15  # the server may hold the line a little past `wait`


class ApiError(Exception):
    """A non-2xx answer; `code` and `message` come from the API's error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Unauthorized(ApiError):
    """The auth token is wrong, or was rotated."""


class DeviceTakenOver(ApiError):
    """Another device already claimed this terminal."""


class TransientError(ApiError):
    """Worth retrying later: network trouble, timeouts, 5xx, rate limiting."""


class RateLimited(TransientError):
    """429 RATE_LIMITED: this terminal asked too often. `retry_after` is the server's Retry-After in
    seconds (None when it sent none, as API Gateway's own throttling does): wait that long, then go on."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(status, code, message)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in delta seconds (what QuantLink sends); None if absent or in another form
    (an HTTP date: the caller then backs off as for any transient error)."""
    text = (value or "").strip()
    return float(text) if text.isdigit() else None


_ERRORS_BY_CODE: dict[str, type[ApiError]] = {
    "UNAUTHORIZED": Unauthorized,
    "DEVICE_TAKEN_OVER": DeviceTakenOver,
    "RATE_LIMITED": TransientError,
}


def _error_for(status: int, body: bytes, headers: Any = None) -> ApiError:
    """`headers`: the answer's (an http.client.HTTPMessage), read for Retry-After."""
    try:
        parsed = json.loads(body.decode("utf-8"))
        code, message = str(parsed["code"]), str(parsed.get("message", ""))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        code, message = f"HTTP_{status}", body[:200].decode("utf-8", "replace")
    if status == 429:
        retry_after = retry_after_seconds(headers.get("Retry-After") if headers is not None else None)
        return RateLimited(status, code, message, retry_after)
    if status >= 500:
        return TransientError(status, code, message)
    if status == 401:
        return Unauthorized(status, code, message)
    return _ERRORS_BY_CODE.get(code, ApiError)(status, code, message)


class QuantLinkClient:
    def __init__(
        self, api_base: str, auth_token: str, device_fingerprint: str, timeout: float = 15.0
    ) -> None:
        if not api_base.startswith(("https://", "http://")):
            raise ValueError(f"api_base must be an http(s) URL, got {api_base!r}")
        self._api_base = api_base.rstrip("/")
        self._auth_token = auth_token
        self._fingerprint = device_fingerprint
        self._timeout = timeout

    # -- endpoints ----------------------------------------------------------------------------------

    def health(self) -> Mapping[str, Any]:
        return self._request("GET", "/api/health", authenticated=False)

    def push_url(self) -> str | None:
        """The push WebSocket's URL when the server offers push (GET /api/config's `push`), else None."""
        config = self._request("GET", "/api/config", authenticated=False)
        push = config.get("push")
        url = push.get("url") if isinstance(push, dict) else None
        return url if isinstance(url, str) and url.startswith(("wss://", "ws://")) else None

    @property
    def auth_token(self) -> str:
        return self._auth_token

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def pull(self, wait: int = MAX_PULL_WAIT, max_signals: int = 10) -> list[dict[str, Any]]:
        """Raw signals; parsing is the caller's so one bad signal cannot hide the others."""
        body = self._request(
            "GET",
            f"/api/terminals/pull?wait={wait}&max={max_signals}",
            timeout=wait + _LONG_POLL_GRACE_SECONDS,
        )
        signals = body.get("signals", [])
        return [dict(item) for item in signals] if isinstance(signals, list) else []

    def ack(self, acks: list[dict[str, Any]]) -> dict[str, bool]:
        """signalId -> whether the server took the ack."""
        accepted: dict[str, bool] = {}
        for start in range(0, len(acks), MAX_ACKS_PER_REQUEST):
            body = self._request(
                "POST", "/api/terminals/ack", {"acks": acks[start : start + MAX_ACKS_PER_REQUEST]}
            )
            for result in body.get("results", []):
                accepted[str(result.get("signalId"))] = bool(result.get("ok"))
        return accepted

    def post_positions(self, report: Mapping[str, Any]) -> None:
        self._request("POST", "/api/terminals/positions", dict(report))

    # -- transport ----------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None = None,
        authenticated: bool = True,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json", "User-Agent": f"quantlink-terminal/{__version__}"}
        data = None
        if payload is not None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if authenticated:
            headers["Authorization"] = f"Bearer {self._auth_token}"
            headers[FINGERPRINT_HEADER] = self._fingerprint
        # S310: the URL's scheme is http(s), checked in __init__.
        request = urllib.request.Request(self._api_base + path, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout or self._timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise _error_for(exc.code, exc.read(), exc.headers) from exc
        except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransientError(0, "NETWORK", f"cannot reach {self._api_base}: {reason}") from exc
        if not raw:
            return {}
        try:
            parsed = json.loads(raw.decode("utf-8"))
        except ValueError as exc:
            # A captive portal or proxy page, not our API: retry later rather than crash.
            raise TransientError(200, "BAD_RESPONSE", "the answer was not JSON") from exc
        return parsed if isinstance(parsed, dict) else {}
