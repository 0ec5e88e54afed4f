"""DNS-rebinding guard of the local API: `Host` and `Origin` must name this API, never another site's name.

A web page in a browser on the edge host can make its own domain name resolve to 127.0.0.1 and then call
the local API as "same origin"; its requests still carry that domain in `Host`. Accepted: IP literals (a
rebinding needs a name), `localhost`, and the names in LOCAL_API_ALLOWED_HOSTS. An `Origin` (sent by
browsers) must be such a name too, or the API's own origin.
"""

import ipaddress
import logging
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse

logger = logging.getLogger(__name__)
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})


def host_name(value: str) -> str:
    """The name of a `Host` value without its port, lower case ('[::1]:3002' -> '::1')."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_ip(name: str) -> bool:
    """True for an IPv4 or IPv6 literal."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostGuard:
    """ASGI middleware: HTTP 403 (or a refused websocket) for a Host or Origin that is not this API's."""

    def __init__(self, app, allowed_names: tuple[str, ...] = ()) -> None:
        self.app = app
        self.names = LOCAL_NAMES | {host_name(name) for name in allowed_names if name.strip()}

    def accepts(self, name: str) -> bool:
        """True for a name this API answers to."""
        return is_ip(name) or name in self.names

    def refusal(self, headers: Headers) -> str | None:
        """Why the request is refused, or None."""
        host = headers.get("host", "")
        if not self.accepts(host_name(host)):
            return f"Host {host!r} is not a name of this API (LOCAL_API_ALLOWED_HOSTS)"
        origin = headers.get("origin")
        if origin is None:
            return None
        parts = urlsplit(origin)
        same_origin = parts.netloc.lower() == host.strip().lower()
        if not same_origin and not self.accepts(host_name(parts.netloc)):
            return f"Origin {origin!r} is not allowed (LOCAL_API_ALLOWED_HOSTS)"
        return None

    async def __call__(self, scope, receive, send) -> None:
        """Pass allowed requests on; refuse the others before any handler runs."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        reason = self.refusal(Headers(scope=scope))
        if reason is None:
            await self.app(scope, receive, send)
            return
        logger.warning("local API refused a request: %s", reason)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})
            return
        await PlainTextResponse(reason, status_code=403)(scope, receive, send)
