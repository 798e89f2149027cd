"""An API Gateway (REST, Lambda proxy) emulator for exactly the routes in template.yaml.

It turns HTTP into proxy events, verifies the Cognito ID token on authorized routes as the Cognito
authorizer would (RS256 against the pool's JWKS), answers with the template's GatewayResponses, and
runs each function in a pool of execution environments: like Lambda, one environment serves one
invocation at a time, and a new one is loaded (a cold start) when all are busy, so many long-polls
run at once without sharing a Powertools resolver's per-request state."""

from __future__ import annotations

import base64
import importlib.util
import json
import mimetypes
import threading
import time
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

from quantlink_local.template import FunctionSpec, Route, Template

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's own payload limit


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
        # Serial until the first load shows the handler module holds no Powertools resolver.
        self._serial: threading.Lock | None = threading.Lock()

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

    def __post_init__(self) -> None:
        self.routes: list[Route] = self.template.routes()
        self.responses = self.template.gateway_responses(self.resolve)
        cors = self.template.api().get("Cors", {})
        self.cors = {
            "Access-Control-Allow-Origin": "*",
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
        if not path.startswith("/api/"):
            return self.static(path)
        if method == "OPTIONS":
            return 204, dict(self.cors), b""
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

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                status, headers, payload = gateway.gateway_answer("REQUEST_TOO_LARGE", 413)
                self.close_connection = True
            else:
                body = self.rfile.read(length) if length else b""
                status, headers, payload = gateway.handle(
                    self.command, self.path, dict(self.headers.items()), body, self.client_address[0]
                )
            self.send_response(status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "")
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 512
        allow_reuse_address = True

    return Server((host, port), Handler)


def json_line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)
