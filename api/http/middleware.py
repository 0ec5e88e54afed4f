"""ASGI middleware: request log and metrics, body size limit (plain-text errors); site limits: api/http/site_limits.py."""

import logging
import time

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse

from api import metrics
from api.http.request_log import LOG_KEY

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("api.access")


class RequestLogMiddleware:
    """One log line (api.access: method, path, GraphQL operation, site, batch id, status, duration) per request."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        """Pass the request on; log and count it when it is answered."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}
        entry = scope[LOG_KEY] = {}

        async def send_wrapper(message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            path = scope["path"] if scope["path"] in ("/graphql", "/healthz", "/metrics") else "other"
            metrics.REQUESTS.labels(scope["method"], path, str(status["code"])).inc()
            client = (scope.get("client") or ("-", 0))[0]
            seconds = time.perf_counter() - started
            duration_ms = round(seconds * 1000, 1)
            field = entry.pop("root_field", None)
            if path == "/graphql":
                metrics.GRAPHQL_DURATION.labels(field or "none", str(status["code"])).observe(seconds)
            access_logger.info(
                "%s %s %s %s %d %.1fms%s%s",
                client,
                scope["method"],
                scope["path"],
                entry.get("operation") or "-",
                status["code"],
                duration_ms,
                f" site={entry['site_id']}" if "site_id" in entry else "",
                f" batch={entry['batch_id']}" if "batch_id" in entry else "",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status["code"],
                    "duration_ms": duration_ms,
                    "client": client,
                    **entry,
                },
            )


class BodyLimitMiddleware:
    """Refuse request bodies larger than max_bytes with HTTP 413 before parsing them."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        """Answer 413 for a declared or streamed body over the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        seen = 0

        async def counting_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope, receive, send) -> None:
        response = PlainTextResponse(f"request body larger than {self.max_bytes} bytes", status_code=413)
        await response(scope, receive, send)


class BodyTooLarge(Exception):
    """Raised inside receive() when a streamed body passes the limit."""
