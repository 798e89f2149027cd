"""The push WebSocket (API.md, "Push"): signals arrive the moment QuantLink records them, and a waiting
terminal costs next to nothing (no long-poll holds a server function while nothing happens).

A background thread holds the connection and hands received signals to the agent's loop through a
queue; the loop executes them through the same journal as pulled ones (exactly once, whichever way a
signal came). Push is only an accelerator: every pushed signal can also be pulled until it is acked, so
the agent pulls with `wait=0` after every (re)connect and every few minutes. When the socket cannot be
opened (a proxy that blocks WebSockets, an old server) the agent long-polls as before, says so, and
tries the socket again later.

Keepalive and refresh follow API Gateway's limits: a `{"action": "ping"}` every 8 minutes (it closes a
connection idle for 10) answered by `{"type": "ping"}`, and a fresh connection opened before the old one
is closed every 110 minutes (it closes any connection after 2 hours)."""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from typing import Any, Callable, Dict

log = logging.getLogger(__name__)

PING_INTERVAL = 480.0  # seconds between keepalives (API Gateway closes a connection idle for 600 s)
PONG_TIMEOUT = 30.0  # a keepalive unanswered this long means the connection is dead
REFRESH_AFTER = 110 * 60.0  # seconds before a new connection replaces this one (API Gateway: 2 hours)
RETRY_DELAYS = (5.0, 15.0, 60.0, 300.0)  # between attempts to (re)open the socket


class PushRefused(Exception):
    """The server refused the upgrade for a reason only the trader can fix (401 or 409)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def _websockets_client() -> Any:
    """The `websockets` package's threaded client, or None where it is not installed."""
    try:
        from websockets.sync import client
    except ImportError:
        return None
    return client


Connector = Callable[[str, Dict[str, str]], Any]


def default_connector(url: str, headers: dict[str, str]) -> Any:
    client = _websockets_client()
    if client is None:
        raise OSError("the `websockets` package is not installed (pip install websockets)")
    return client.connect(
        url,
        additional_headers=headers,
        ping_interval=None,  # our own keepalive: API Gateway's idle timer counts messages
        compression=None,
        open_timeout=10,
        close_timeout=2,
        max_size=1024 * 1024,
    )


def _refusal(exc: BaseException) -> PushRefused | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if status not in (401, 403, 409):
        return None
    try:
        body = json.loads(bytes(getattr(response, "body", b"") or b"").decode("utf-8"))
        code, message = str(body["code"]), str(body.get("message", ""))
    except (ValueError, KeyError, TypeError):
        code, message = ("DEVICE_TAKEN_OVER" if status == 409 else "UNAUTHORIZED"), "refused"
    return PushRefused(int(status), code, message)


class PushChannel:
    """Holds the push WebSocket in a background thread; the agent reads `take()` and `state`."""

    def __init__(
        self,
        url: str,
        auth_token: str,
        fingerprint: str,
        connector: Connector = default_connector,
        ping_interval: float = PING_INTERVAL,
        refresh_after: float = REFRESH_AFTER,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.url = url
        self._headers = {"Authorization": "Bearer " + auth_token, "X-Device-Fingerprint": fingerprint}
        self._connect = connector
        self._ping_interval = ping_interval
        self._refresh_after = refresh_after
        self._retry_delays = retry_delays
        self._signals: queue.Queue[list[dict[str, Any]]] = queue.Queue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._attempted = threading.Event()
        self._thread: threading.Thread | None = None
        self._socket: Any = None
        self._lock = threading.Lock()
        self.fatal: PushRefused | None = None
        self.last_error: str | None = None
        self.connects = 0  # every successful open, refreshes included
        self._catch_up = threading.Event()  # set on each (re)connect: the agent pulls wait=0

    # -- what the agent reads -----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def state(self) -> str:
        if self.connected:
            return "push"
        return "long-poll (push unavailable: %s)" % (self.last_error or "connecting")

    def wait_connected(self, timeout: float) -> bool:
        """Until the first attempt to open the socket succeeded or failed (at most `timeout` seconds)."""
        self._attempted.wait(timeout)
        return self.connected

    def take(self, timeout: float) -> list[dict[str, Any]]:
        """Signals pushed since the last call, waiting up to `timeout` seconds for the first."""
        found: list[dict[str, Any]] = []
        try:
            found.extend(self._signals.get(timeout=max(0.0, timeout)))
        except queue.Empty:
            return found
        while True:
            try:
                found.extend(self._signals.get_nowait())
            except queue.Empty:
                return found

    def needs_catch_up(self) -> bool:
        """True once after each (re)connect: what was sent while disconnected waits in the queue."""
        if self._catch_up.is_set():
            self._catch_up.clear()
            return True
        return False

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> PushChannel:
        self._thread = threading.Thread(target=self._run, name="quantlink-push", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._close(self._socket)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def drop(self) -> None:
        """Close the socket as a network failure would (tests; the thread reconnects)."""
        self._close(self._socket)

    # -- the thread ---------------------------------------------------------------------------------

    def _open(self) -> Any:
        socket = self._connect(self.url, dict(self._headers))
        self.connects += 1
        return socket

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                socket = self._open()
            except Exception as exc:  # noqa: BLE001 - anything that stops the socket from opening
                self._attempted.set()
                refused = _refusal(exc)
                if refused is not None:
                    self.fatal = refused
                    self.last_error = str(refused)
                    log.error("push refused: %s", refused)
                    return
                delay = self._retry_delays[min(failures, len(self._retry_delays) - 1)]
                failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "push WebSocket unavailable (%s); long-polling instead, trying again in %.0f s",
                    self.last_error,
                    delay,
                )
                self._stop.wait(delay)
                continue
            failures = 0
            self.last_error = None
            self._hold(socket)

    def _hold(self, socket: Any) -> None:
        """Receive until the socket fails or is due for its refresh; then hand over to a new one."""
        self._socket = socket
        self._connected.set()
        self._attempted.set()
        self._catch_up.set()
        log.info("push connected (%s)", self.url)
        opened = time.monotonic()
        last_ping = opened
        awaiting_pong: float | None = None
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now - opened >= self._refresh_after:
                    socket = self._refresh(socket)
                    opened, last_ping, awaiting_pong = time.monotonic(), time.monotonic(), None
                    continue
                if awaiting_pong is not None and now - awaiting_pong > PONG_TIMEOUT:
                    raise ConnectionError("the keepalive went unanswered")
                if awaiting_pong is None and now - last_ping >= self._ping_interval:
                    socket.send(json.dumps({"action": "ping"}))
                    last_ping = awaiting_pong = now
                wait = min(1.0, max(0.05, last_ping + self._ping_interval - now))
                try:
                    text = socket.recv(timeout=wait)
                except TimeoutError:
                    continue
                if self._frame(text):
                    awaiting_pong = None
        except Exception as exc:  # noqa: BLE001 - closed, reset, timed out: reconnect
            if not self._stop.is_set():
                self.last_error = "connection lost: %s" % (exc or type(exc).__name__)
                log.warning("push %s; reconnecting", self.last_error)
        finally:
            self._connected.clear()
            self._close(socket)

    def _refresh(self, old: Any) -> Any:
        """Open the new connection first, then close the old one: the server forgets a connection only
        if it is still the terminal's, so there is no moment without one."""
        new = self._open()
        with self._lock:
            self._socket = new
        self._catch_up.set()  # frames in flight on the old socket are pulled instead
        self._close(old)
        log.info("push connection refreshed")
        return new

    def _frame(self, text: Any) -> bool:
        """Queue the signals of a frame; True for the keepalive's answer."""
        try:
            frame = json.loads(text)
        except (TypeError, ValueError):
            log.warning("ignoring a push frame that is not JSON")
            return False
        if not isinstance(frame, dict):
            return False
        if frame.get("type") == "ping":
            return True
        if frame.get("type") == "signals" and isinstance(frame.get("signals"), list):
            self._signals.put([dict(item) for item in frame["signals"] if isinstance(item, dict)])
        return False

    @staticmethod
    def _close(socket: Any) -> None:
        if socket is None:
            return
        # Closing a broken socket may fail; it is gone either way.
        with contextlib.suppress(Exception):
            socket.close()
