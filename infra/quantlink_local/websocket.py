"""An API Gateway WebSocket API emulator for the template's `AWS::ApiGatewayV2::Api` (WEBSOCKET), and
the management endpoint its PostToConnection calls reach.

moto's apigatewaymanagementapi stores posted data but pushes it to no socket; this emulator holds
real WebSocket connections and delivers to them. Like API Gateway it:
- reads routes, their integrations' functions and route responses from template.yaml;
- runs `$connect` with the upgrade request's headers and refuses the upgrade with the function's
  status (and body) when that is not 2xx; runs `$disconnect` when a connection closes, either side;
- selects a message's route by the API's RouteSelectionExpression (`$request.body.action`), falling
  back to `$default`, and sends the function's answer back when the route has a route response;
- serves `POST|GET|DELETE /{stage}/@connections/{connectionId}`, answering 410 GoneException for a
  connection that is not open;
- closes a connection after 10 idle minutes and after 2 hours, whatever it does.
Functions run in the REST gateway's FunctionPools (one invocation per execution environment)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from quantlink_local.gateway import FunctionPool
from quantlink_local.template import Template

IDLE_TIMEOUT_SECONDS = 600.0  # API Gateway's idle connection timeout
MAX_CONNECTION_SECONDS = 7200.0  # API Gateway's connection duration limit
MAX_FRAME_BYTES = 128 * 1024  # API Gateway's WebSocket frame limit (32 KiB billing units)
# The integration's Lambda ARN, as the template spells it: ...functions/${Fn.Arn}/invocations
_FUNCTION_ARN = re.compile(r"\$\{(\w+)\.Arn\}")
_CONNECTIONS_PATH = re.compile(r"^/(?P<stage>[^/]+)/@connections/(?P<id>[^/]+)$")


@dataclass(frozen=True)
class WebSocketApi:
    """One WebSocket API of the template: route key -> function logical id, and which routes answer."""

    logical_id: str
    route_selection: str
    routes: dict[str, str]
    answering: frozenset[str]

    @classmethod
    def from_template(cls, template: Template) -> WebSocketApi | None:
        apis = {
            name: r
            for name, r in template.of_type("AWS::ApiGatewayV2::Api").items()
            if r["Properties"].get("ProtocolType") == "WEBSOCKET"
        }
        if not apis:
            return None
        ((api_id, api),) = apis.items()
        integrations = {
            name: _function_of(r["Properties"].get("IntegrationUri"))
            for name, r in template.of_type("AWS::ApiGatewayV2::Integration").items()
            if _ref(r["Properties"].get("ApiId")) == api_id
        }
        routes: dict[str, str] = {}
        route_ids: dict[str, str] = {}
        for name, r in template.of_type("AWS::ApiGatewayV2::Route").items():
            props = r["Properties"]
            if _ref(props.get("ApiId")) != api_id:
                continue
            target = _sub_text(props.get("Target"))
            integration = re.fullmatch(r"integrations/\$\{(\w+)\}", target or "")
            if integration is None or integrations.get(integration.group(1)) is None:
                raise RuntimeError(f"route {name}: only Lambda proxy integrations are emulated")
            routes[props["RouteKey"]] = str(integrations[integration.group(1)])
            route_ids[name] = props["RouteKey"]
        answering = frozenset(
            route_ids[_ref(r["Properties"].get("RouteId")) or ""]
            for r in template.of_type("AWS::ApiGatewayV2::RouteResponse").values()
            if _ref(r["Properties"].get("ApiId")) == api_id
        )
        return cls(api_id, str(api["Properties"].get("RouteSelectionExpression", "")), routes, answering)

    def route_for(self, body: str) -> str | None:
        """The route key a message selects, as API Gateway evaluates `$request.body.<field>`."""
        selected = None
        field_name = self.route_selection.removeprefix("$request.body.")
        if field_name != self.route_selection:
            try:
                message = json.loads(body)
            except ValueError:
                message = None
            if isinstance(message, dict) and isinstance(message.get(field_name), str):
                selected = message[field_name]
        if selected in self.routes and not str(selected).startswith("$"):
            return str(selected)
        return "$default" if "$default" in self.routes else None


def _ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


def _sub_text(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"]
        return text if isinstance(text, str) else str(text[0])
    return value if isinstance(value, str) else None


def _function_of(uri: Any) -> str | None:
    found = _FUNCTION_ARN.search(_sub_text(uri) or "")
    return found.group(1) if found else None


@dataclass
class _Connection:
    connection_id: str
    socket: ServerConnection
    source_ip: str
    connected_at: float = field(default_factory=time.time)
    last_active: float = field(default_factory=time.monotonic)


class PushGateway:
    """The WebSocket API (one asyncio loop in its own thread) and its management endpoint (HTTP)."""

    def __init__(
        self,
        api: WebSocketApi,
        pools: dict[str, FunctionPool],
        *,
        host: str,
        stage: str,
        api_id: str = "localpush",
        idle_timeout: float = IDLE_TIMEOUT_SECONDS,
        max_duration: float = MAX_CONNECTION_SECONDS,
    ) -> None:
        self.api = api
        self.pools = pools
        self.host = host
        self.stage = stage
        self.api_id = api_id
        self.idle_timeout = idle_timeout
        self.max_duration = max_duration
        self.connections: dict[str, _Connection] = {}
        self._pending: dict[int, str] = {}  # id(socket) -> connection id, between $connect and open
        self._invocations = ThreadPoolExecutor(max_workers=32, thread_name_prefix="push-invoke")
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None
        self._management: ThreadingHTTPServer | None = None
        self.port = 0
        self.management_port = 0

    # ---- lifecycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """What GET /api/config offers terminals (wss://… in AWS)."""
        return f"ws://{self.host}:{self.port}/{self.stage}"

    @property
    def management_url(self) -> str:
        """PostToConnection's endpoint (https://{api}.execute-api.{region}.amazonaws.com/{stage} in AWS)."""
        return f"http://{self.host}:{self.management_port}/{self.stage}"

    def start(self, port: int = 0, management_port: int = 0) -> PushGateway:
        threading.Thread(target=self._loop.run_forever, name="push-gateway", daemon=True).start()
        self._server = asyncio.run_coroutine_threadsafe(self._serve(port), self._loop).result(timeout=30)
        self.port = self._server.sockets[0].getsockname()[1]
        self._management = _management_server(self, self.host, management_port)
        self.management_port = self._management.server_address[1]
        threading.Thread(target=self._management.serve_forever, name="push-management", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._management is not None:
            self._management.shutdown()
            self._management.server_close()
            self._management = None
        if self._server is not None:
            server = self._server
            self._server = None

            async def close() -> None:
                server.close()
                await server.wait_closed()

            with contextlib.suppress(TimeoutError):
                asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._invocations.shutdown(wait=False, cancel_futures=True)

    async def _serve(self, port: int) -> Server:
        return await serve(
            self._hold,
            self.host,
            port,
            process_request=self._connect,
            ping_interval=None,  # API Gateway sends no pings of its own (it answers the client's)
            compression=None,
            max_size=MAX_FRAME_BYTES,
            server_header=None,
        )

    # ---- the API's routes -----------------------------------------------------------------------

    def _event(self, route_key: str, connection_id: str, source_ip: str, **extra: Any) -> dict[str, Any]:
        now = time.time()
        event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route_key, "MESSAGE")
        context = {
            "routeKey": route_key,
            "eventType": event_type,
            "messageDirection": "IN",
            "stage": self.stage,
            "connectionId": connection_id,
            "connectedAt": int(self.connections[connection_id].connected_at * 1000)
            if connection_id in self.connections
            else int(now * 1000),
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now * 1000),
            "domainName": f"{self.host}:{self.port}",
            "apiId": self.api_id,
            "identity": {"sourceIp": source_ip},
        }
        if event_type == "MESSAGE":
            context["messageId"] = secrets.token_urlsafe(12)
        body = extra.pop("body", None)
        event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False, **extra}
        if body is not None:
            event["body"] = body
        return event

    async def _invoke(self, route_key: str, event: dict[str, Any]) -> dict[str, Any] | None:
        function = self.api.routes.get(route_key)
        if function is None:
            return None
        try:
            result: dict[str, Any] = await self._loop.run_in_executor(
                self._invocations, self.pools[function].invoke, event
            )
        except Exception:  # noqa: BLE001 - a crashed function: API Gateway answers 502 / drops the message
            return {"statusCode": 502, "body": json.dumps({"message": "Internal server error"})}
        return result

    async def _connect(self, socket: ServerConnection, request: Request) -> Response | None:
        """The upgrade request: wrong path -> 404; then $connect decides (a non-2xx refuses it)."""
        if request.path.split("?", 1)[0].rstrip("/") != f"/{self.stage}":
            return socket.respond(404, '{"message":"Not Found"}\n')
        connection_id = base64.b64encode(secrets.token_bytes(12)).decode()
        headers: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        for name, value in request.headers.raw_items():
            headers[name] = value
            multi.setdefault(name, []).append(value)
        source_ip = str(socket.remote_address[0]) if socket.remote_address else ""
        event = self._event("$connect", connection_id, source_ip, headers=headers, multiValueHeaders=multi)
        result = await self._invoke("$connect", event) or {"statusCode": 200}
        status = int(result.get("statusCode", 200))
        if not 200 <= status < 300:
            refused = socket.respond(status, str(result.get("body") or ""))
            refused.headers["Content-Type"] = "application/json"
            return refused
        self._pending[id(socket)] = connection_id
        return None

    async def _hold(self, socket: ServerConnection) -> None:
        connection_id = self._pending.pop(id(socket))
        source_ip = str(socket.remote_address[0]) if socket.remote_address else ""
        connection = _Connection(connection_id, socket, source_ip)
        self.connections[connection_id] = connection
        deadline = time.monotonic() + self.max_duration
        close_reason = "Client closed"
        try:
            while True:
                now = time.monotonic()
                wait = min(connection.last_active + self.idle_timeout, deadline) - now
                if wait <= 0:
                    close_reason = "Going away"
                    await socket.close(1001, "Going away")
                    break
                try:
                    message = await asyncio.wait_for(socket.recv(), timeout=wait)
                except TimeoutError:
                    continue  # re-checked above: a post may have kept it active meanwhile
                connection.last_active = time.monotonic()
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                await self._message(connection, text)
        except ConnectionClosed:
            pass
        finally:
            self.connections.pop(connection_id, None)
            event = self._event("$disconnect", connection_id, source_ip, headers={})
            event["requestContext"]["disconnectReason"] = close_reason
            await self._invoke("$disconnect", event)

    async def _message(self, connection: _Connection, text: str) -> None:
        route_key = self.api.route_for(text)
        if route_key is None:
            return
        event = self._event(route_key, connection.connection_id, connection.source_ip, body=text)
        result = await self._invoke(route_key, event)
        if result and route_key in self.api.answering and result.get("body"):
            await connection.socket.send(str(result["body"]))

    # ---- the management API ---------------------------------------------------------------------

    def post(self, connection_id: str, data: bytes) -> bool:
        """PostToConnection: False when the connection is not open (410)."""
        connection = self.connections.get(connection_id)
        if connection is None:
            return False
        try:
            text: str | bytes = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data
        try:
            asyncio.run_coroutine_threadsafe(connection.socket.send(text), self._loop).result(timeout=10)
        except (ConnectionClosed, TimeoutError):
            return False
        connection.last_active = time.monotonic()
        return True

    def disconnect(self, connection_id: str) -> bool:
        connection = self.connections.get(connection_id)
        if connection is None:
            return False
        asyncio.run_coroutine_threadsafe(connection.socket.close(1000, "Closed by the server"), self._loop)
        return True

    def describe(self, connection_id: str) -> dict[str, Any] | None:
        connection = self.connections.get(connection_id)
        if connection is None:
            return None
        idle = time.monotonic() - connection.last_active
        return {
            "connectedAt": _iso(connection.connected_at),
            "lastActiveAt": _iso(time.time() - idle),
            "identity": {"sourceIp": connection.source_ip},
        }


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"


def _management_server(gateway: PushGateway, host: str, port: int) -> ThreadingHTTPServer:
    gone = json.dumps({"message": "The connection is gone."}).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _answer(self, status: int, body: bytes = b"", error_type: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if error_type:
                self.send_header("x-amzn-ErrorType", error_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _route(self, act: Callable[[str, bytes], tuple[int, bytes, str | None]]) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length) if length else b""
            found = _CONNECTIONS_PATH.match(self.path.split("?", 1)[0])
            if found is None or found.group("stage") != gateway.stage:
                self._answer(404, b'{"message":"Not Found"}', "NotFoundException")
                return
            self._answer(*act(unquote(found.group("id")), data))  # ids carry base64's "=", "+", "/"

        def do_POST(self) -> None:
            def post(connection_id: str, data: bytes) -> tuple[int, bytes, str | None]:
                if len(data) > MAX_FRAME_BYTES:
                    return 413, b'{"message":"Payload too large"}', "PayloadTooLargeException"
                return (200, b"", None) if gateway.post(connection_id, data) else (410, gone, "GoneException")

            self._route(post)

        def do_DELETE(self) -> None:
            self._route(lambda cid, _: (204, b"", None) if gateway.disconnect(cid) else (410, gone, "GoneException"))

        def do_GET(self) -> None:
            def get(connection_id: str, _: bytes) -> tuple[int, bytes, str | None]:
                described = gateway.describe(connection_id)
                return (200, json.dumps(described).encode(), None) if described else (410, gone, "GoneException")

            self._route(get)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 512
        allow_reuse_address = True

    return Server((host, port), Handler)
