"""An API Gateway (REST, Lambda proxy) emulator for exactly the routes in template.yaml.

It turns HTTP into proxy events, verifies the Cognito ID token on authorized routes as the Cognito
authorizer would (RS256 against the pool's JWKS), answers with the template's GatewayResponses, and
runs each function in a pool of execution environments: like Lambda, one environment serves one
invocation at a time, and a new one is loaded (a cold start) when all are busy, so many long-polls
run at once without sharing a Powertools resolver's per-request state.

At the HTTP level it answers what http.server would answer with an HTML page (a malformed request
line, an unknown method, an over-long line or header, a Content-Length that is not one non-negative
integer) with API.md's JSON error body, then closes the connection; it reads chunked bodies; and a
client that leaves before its answer (a dropped long-poll) is one log line. `GET /local/outbox`
lists the emails the stack sent (outbox.py)."""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import mimetypes
import re
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from quantlink_local import outbox
from quantlink_local.template import FunctionSpec, Route, Template

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's own payload limit
IDLE_TIMEOUT = 120  # seconds a connection may sit silent (mid-request or between keep-alive requests)
_DIGITS = re.compile(r"[0-9]{1,12}")
logger = logging.getLogger("quantlink_local.gateway")


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = ""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    deadline: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class FunctionPool:
    """Execution environments of one function: each a fresh import of its handler module."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self._idle: list[Callable[..., Any]] = []
        self._lock = threading.Lock()
        self.cold_starts = 0
        # A handler module that holds a Powertools resolver runs one invocation at a time; which
        # kind a module is shows when it is first loaded (under _first_load, before any invocation,
        # so calls arriving together at a cold function are not serialized behind the first one).
        self._serial: threading.Lock | None = threading.Lock()
        self._first_load = threading.Lock()
        self._loaded = False

    def _load(self) -> Callable[..., Any]:
        module_name, _, attribute = self.spec.handler.rpartition(".")
        path = self.spec.code_dir / f"{module_name.replace('.', '/')}.py"
        with self._lock:
            self.cold_starts += 1
            unique = f"_lambda_{self.spec.logical_id}_{self.cold_starts}"
        loader_spec = importlib.util.spec_from_file_location(unique, path)
        assert loader_spec is not None and loader_spec.loader is not None
        module: ModuleType = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
        handler: Callable[..., Any] = getattr(module, attribute)
        if not any(isinstance(value, BaseRouter) for value in vars(module).values()):
            self._serial = None
        return handler

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        if not self._loaded:
            with self._first_load:
                if not self._loaded:
                    handler = self._load()
                    with self._lock:
                        self._idle.append(handler)
                    self._loaded = True
        serial = self._serial
        if serial is None:
            return self._invoke(event)
        with serial:
            return self._invoke(event)

    def _invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            handler = self._idle.pop() if self._idle else None
        if handler is None:
            handler = self._load()
        try:
            context = LambdaContext(
                function_name=self.spec.logical_id,
                invoked_function_arn=f"arn:aws:lambda:local:000000000000:function:{self.spec.logical_id}",
                deadline=time.monotonic() + self.spec.timeout,
            )
            result: dict[str, Any] = handler(event, context)
            return result
        finally:
            with self._lock:
                self._idle.append(handler)


class CognitoAuthorizer:
    """Verifies an ID token the way API Gateway's Cognito user-pool authorizer does."""

    def __init__(self, jwks_url: str, issuer: str, client_id: str) -> None:
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True)
        self.issuer = issuer
        self.client_id = client_id

    def claims(self, header: str | None) -> dict[str, Any] | None:
        if not header:
            return None
        token = header.split(" ", 1)[1] if header.lower().startswith("bearer ") else header
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token, key.key, algorithms=["RS256"], audience=self.client_id, issuer=self.issuer
            )
        except jwt.PyJWTError:
            return None
        if claims.get("token_use") != "id":
            return None
        return claims


@dataclass
class Gateway:
    template: Template
    pools: dict[str, FunctionPool]
    authorizer: CognitoAuthorizer
    resolve: Callable[[Any], Any]
    static_dir: Path | None = None
    stage: str = "prod"
    moto_endpoint: str | None = None  # where the SES outbox is read (GET /local/outbox)

    def __post_init__(self) -> None:
        self.routes: list[Route] = self.template.routes()
        self.responses = self.template.gateway_responses(self.resolve)
        cors = self.template.api().get("Cors", {})
        # The template's origin (the SPA's: the WebBucket website URL, here this gateway, unless the
        # CorsOrigin parameter names another), answered only to that origin and only on the routes of
        # functions that serve browsers (those given CORS_ORIGIN): webhooks and terminals are no browsers.
        self.cors_origin = str(self.resolve(cors.get("AllowOrigin", "''"))).strip("'")
        self.browser_functions = {
            spec.logical_id for spec in self.template.functions() if "CORS_ORIGIN" in spec.environment
        }
        self.cors = {
            "Access-Control-Allow-Origin": self.cors_origin,
            "Access-Control-Allow-Headers": str(cors.get("AllowHeaders", "'*'")).strip("'"),
            "Access-Control-Allow-Methods": str(cors.get("AllowMethods", "'*'")).strip("'"),
        }

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """The route, its path parameters, and whether the path exists for another method."""
        candidates = []
        path_known = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            path_known = True
            if route.method == method:
                candidates.append((route.specificity, route, found.groupdict()))
        if not candidates:
            return None, {}, path_known
        _, route, params = min(candidates, key=lambda c: c[0])
        return route, params, path_known

    def preflight(self, path: str, headers: dict[str, str]) -> dict[str, str]:
        """A CORS preflight's headers: the allow headers for the SPA's origin on a browser route, none
        for any other origin or route (the browser then refuses the call)."""
        lowered = {k.lower(): v for k, v in headers.items()}
        method = lowered.get("access-control-request-method", "GET").upper()
        route, _, _ = self.match(method, path)
        browser = route is not None and route.function in self.browser_functions
        if browser and self.cors_origin in ("*", lowered.get("origin")):
            return {**self.cors, "Vary": "Origin"}
        return {"Vary": "Origin"}

    def gateway_answer(self, kind: str, default_status: int) -> tuple[int, dict[str, str], bytes]:
        """What API Gateway answers itself (no function ran): the template's GatewayResponses."""
        fallback = "DEFAULT_4XX" if default_status < 500 else "DEFAULT_5XX"
        answer = self.responses.get(kind) or self.responses.get(fallback)
        if answer is None:
            return default_status, {"Content-Type": "application/json"}, b'{"message":"error"}'
        headers = {"Content-Type": "application/json", **answer.headers}
        return answer.status or default_status, headers, answer.body.encode()

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(raw_path)
        path = split.path
        if path == outbox.GATEWAY_PATH:
            return (
                self.outbox() if method in ("GET", "HEAD") else self.gateway_answer("MISSING_AUTHENTICATION_TOKEN", 404)
            )
        if not path.startswith("/api/"):
            return self.static(path)
        if method == "OPTIONS":
            return 204, self.preflight(path, headers), b""
        if len(body) > MAX_BODY_BYTES:
            return self.gateway_answer("REQUEST_TOO_LARGE", 413)
        route, params, _ = self.match(method, path)
        if route is None:
            # API Gateway answers an unknown method on a known path like an unknown path.
            return self.gateway_answer("MISSING_AUTHENTICATION_TOKEN", 403)
        claims = None
        if route.authorized:
            claims = self.authorizer.claims(next((v for k, v in headers.items() if k.lower() == "authorization"), None))
            if claims is None:
                return self.gateway_answer("UNAUTHORIZED", 401)
        event = self.event(route, method, path, split.query, params, headers, body, source_ip, claims)
        try:
            result = self.pools[route.function].invoke(event)
        except Exception:  # noqa: BLE001 - the function crashed: API Gateway answers 502
            return self.gateway_answer("DEFAULT_5XX", 502)
        return self.proxy_response(result)

    def event(
        self,
        route: Route,
        method: str,
        path: str,
        query: str,
        params: dict[str, str],
        headers: dict[str, str],
        body: bytes,
        source_ip: str,
        claims: dict[str, Any] | None,
    ) -> dict[str, Any]:
        pairs = parse_qsl(query, keep_blank_values=True)
        multi_query: dict[str, list[str]] = {}
        for key, value in pairs:
            multi_query.setdefault(key, []).append(value)
        try:
            text, is_base64 = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode(), True
        headers = {**headers, "X-Forwarded-Proto": "http"}
        now = time.time()
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": method,
                "path": path,
                "stage": self.stage,
                "requestId": str(uuid.uuid4()),
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "requestTimeEpoch": int(now * 1000),
                "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
                "authorizer": {"claims": {k: str(v) for k, v in claims.items()}} if claims else None,
                "protocol": "HTTP/1.1",
            },
            "body": text if body else None,
            "isBase64Encoded": is_base64,
        }

    def proxy_response(self, result: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        for key, values in (result.get("multiValueHeaders") or {}).items():
            headers[key] = ", ".join(str(v) for v in values)
        text = result.get("body") or ""
        payload = base64.b64decode(text) if result.get("isBase64Encoded") else text.encode("utf-8")
        return int(result.get("statusCode", 200)), headers, payload

    def outbox(self) -> tuple[int, dict[str, str], bytes]:
        """The emails the stack sent (moto keeps them): a JSON list, newest last."""
        if self.moto_endpoint is None:
            return 200, {"Content-Type": "application/json"}, b"[]"
        with urllib.request.urlopen(f"{self.moto_endpoint}{outbox.MOTO_PATH}", timeout=10) as answer:  # noqa: S310
            return 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, answer.read()

    def malformed(self, status: int, reason: str) -> tuple[int, bytes]:
        """What the emulator answers to a request HTTP itself rejects, in API.md's error body."""
        if status == 501:  # an unknown method: like an unknown method on a known path
            code, _, payload = self.gateway_answer("MISSING_AUTHENTICATION_TOKEN", 404)
            return code, payload
        if status in (413, 414, 431):
            code, _, payload = self.gateway_answer("REQUEST_TOO_LARGE", 413)
            return code, payload
        body = {"code": "VALIDATION_ERROR", "message": "The request is not valid HTTP.",
                "details": [{"field": "request", "message": reason}]}  # fmt: skip
        return 400, json.dumps(body).encode()

    def static(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """The SPA, as the S3 website serves it (index.html for unknown paths)."""
        if self.static_dir is None or not self.static_dir.is_dir():
            return 404, {"Content-Type": "application/json"}, b'{"code":"NOT_FOUND","message":"No such page."}'
        root = self.static_dir.resolve()
        target = (root / path.lstrip("/")).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            target = root / "index.html"
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return 200, {"Content-Type": kind, "Cache-Control": "no-cache"}, target.read_bytes()


def serve(gateway: Gateway, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "QuantLinkLocalGateway/1"
        # Headers and body go out in two writes: with Nagle on, the body waits for the client's
        # delayed ACK (~40 ms) on every keep-alive response.
        disable_nagle_algorithm = True
        timeout = IDLE_TIMEOUT

        def _serve(self) -> None:
            body = self._read_body()
            if body is None:
                return  # answered (malformed) or the client is gone
            status, headers, payload = gateway.handle(
                self.command, self.path, dict(self.headers.items()), body, self.client_address[0]
            )
            self._answer(status, headers, payload)

        def _read_body(self) -> bytes | None:
            lengths = self.headers.get_all("Content-Length") or []
            if self.headers.get("Transfer-Encoding") is not None:
                if lengths or self.headers["Transfer-Encoding"].strip().lower() != "chunked":
                    self.send_error(400, "Transfer-Encoding other than chunked, or with a Content-Length")
                    return None
                return self._read_chunked()
            if not lengths:
                return b""
            if len(set(lengths)) != 1 or not _DIGITS.fullmatch(lengths[0].strip()):
                self.send_error(400, f"Content-Length must be one non-negative integer, not {', '.join(lengths)!r}")
                return None
            length = int(lengths[0])
            if length > MAX_BODY_BYTES:
                self.send_error(413)
                return None
            body = self.rfile.read(length) if length else b""
            if len(body) < length:  # the client closed mid-body: nothing to answer
                self.close_connection = True
                return None
            return body

        def _read_chunked(self) -> bytes | None:
            chunks: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(1024)
                size_text = line.split(b";", 1)[0].strip()
                if not line.endswith(b"\n") or not re.fullmatch(rb"[0-9a-fA-F]{1,8}", size_text):
                    self.send_error(400, "malformed chunked body")
                    return None
                size = int(size_text, 16)
                total += size
                if total > MAX_BODY_BYTES:
                    self.send_error(413)
                    return None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers: ignored, as API Gateway does
                    return b"".join(chunks)
                chunk = self.rfile.read(size)
                if len(chunk) < size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                    self.send_error(400, "malformed chunked body")
                    return None
                chunks.append(chunk)

        def _answer(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            try:
                self.send_response(status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
                logger.info("%s %s: the client left before its answer (%d)", self.command, self.path, status)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """Every protocol-level refusal in API.md's error body (http.server would send HTML),
            then a clean close: what follows a malformed request cannot be trusted."""
            if self.request_version == "HTTP/0.9":  # unparsed: answer in HTTP/1.1, with a status line
                self.request_version = "HTTP/1.1"
            status, payload = gateway.malformed(code, message or HTTPStatus(code).phrase)
            self.close_connection = True
            self._answer(status, {"Content-Type": "application/json", "Connection": "close"}, payload)

        def parse_request(self) -> bool:
            if not super().parse_request():
                return False
            if self.request_version == "HTTP/0.9":  # a two-word request line: no headers, no version
                self.send_error(400, "HTTP/0.9 requests are not served")
                return False
            return True

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 512
        allow_reuse_address = True

        def handle_error(self, request: Any, client_address: tuple[str, int]) -> None:
            """A client that vanished mid-request is one quiet line; anything else is a bug, in full."""
            error = sys.exc_info()[1]
            if isinstance(error, ConnectionError | TimeoutError):
                logger.info("client %s:%s: %s", client_address[0], client_address[1], type(error).__name__)
                return
            super().handle_error(request, client_address)

    return Server((host, port), Handler)


def json_line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)
