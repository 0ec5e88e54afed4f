"""The local API's Starlette app (/graphql over HTTP and websockets, /healthz) and its in-process uvicorn server."""

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from causes import Cause, text
from edge_agent.local_api.auth import LocalAuth
from edge_agent.local_api.host_guard import HostGuard
from edge_agent.local_api.live import AgentView, Feed
from edge_agent.local_api.schema import Context, schema

logger = logging.getLogger(__name__)


class LocalGraphQL(GraphQL):
    """GraphQL over HTTP and both websocket protocols; a token is checked per request when a password is set."""

    def __init__(self, view: AgentView, feed: Feed, auth: LocalAuth) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        )
        self.view, self.feed, self.auth = view, feed, auth

    async def get_context(self, request: Any, response: Any) -> Context:
        """A Context; HTTP callers are authenticated by their Authorization header."""
        token = request.headers.get("authorization") if request.scope["type"] == "http" else None
        authenticated = self.auth.valid(token) if request.scope["type"] == "http" else not self.auth.required
        return Context(self.view, self.feed, self.auth, authenticated, request, response)

    async def on_ws_connect(self, context: Context) -> None:
        """With a password set, accept a websocket only with a valid token in the connection_init payload."""
        if not self.auth.required:
            return
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        token = params.get("Authorization") or params.get("authorization") or params.get("token")
        if not self.auth.valid(token):
            raise ConnectionRejectionError({"reason": text(Cause.NOT_AUTHENTICATED)})
        context.authenticated = True


def create_app(
    agent: Any, auth: LocalAuth, tick_seconds: float = 1.0, allowed_hosts: tuple[str, ...] = ()
) -> Starlette:
    """The local API over an EdgeAgent; every operation but login needs a token.

    Host and Origin are checked against this API's names (DNS rebinding: edge_agent/local_api/host_guard.py).
    """
    view = AgentView(agent)
    feed = Feed(view, tick_seconds)
    graphql = LocalGraphQL(view, feed, auth)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        await feed.close()

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
        ],
        middleware=[Middleware(HostGuard, allowed_names=(*allowed_hosts,))],
        lifespan=lifespan,
    )


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the agent that embeds it."""

    @contextlib.contextmanager
    def capture_signals(self):
        """Install nothing: the agent's own SIGINT/SIGTERM handlers stop it, and it stops us."""
        yield


class LocalApiServer:
    """Serves the local API inside the agent's event loop: `await start()` … `await stop()`."""

    def __init__(
        self,
        agent: Any,
        host: str = "127.0.0.1",
        port: int = 3002,
        password: str | None = None,
        allowed_hosts: tuple[str, ...] = (),
        password_file: Path | None = None,
    ) -> None:
        self.host, self.port = host, port
        # Required on loopback too: any program or web page on the edge host could otherwise drive it.
        auth = LocalAuth(password, password_file=password_file)
        if not auth.required:
            raise ValueError("the local API needs LOCAL_API_PASSWORD or a LOCAL_API_PASSWORD_FILE")
        config = uvicorn.Config(
            create_app(agent, auth, allowed_hosts=(host, *allowed_hosts)), host=host, port=port, log_level="warning", lifespan="on",
            ws_ping_interval=20, timeout_graceful_shutdown=3,
        )  # fmt: skip
        self.server = _QuietServer(config)
        self._task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        """The GraphQL endpoint."""
        return f"http://{self.host}:{self.port}/graphql"

    async def start(self) -> None:
        """Start serving; returns once the socket listens (raises if it cannot bind)."""
        self._task = asyncio.create_task(self.server.serve(), name="local-api")
        while not self.server.started:
            if self._task.done():
                self._task.result()
                raise OSError(f"local API could not listen on {self.host}:{self.port}")
            await asyncio.sleep(0.05)
        logger.info("local API on %s", self.url)

    async def stop(self) -> None:
        """Stop serving (open websockets are closed)."""
        if self._task is None:
            return
        self.server.should_exit = True
        try:
            await asyncio.wait_for(self._task, 10)
        except (TimeoutError, asyncio.CancelledError, SystemExit):
            self._task.cancel()
        self._task = None
