"""Websockets that obey revocation: the token and user re-checked on every subscribe, and a watcher per
socket that closes it with 4403 at the token's expiry or when its user's sessions end (any worker's pub/sub).
Subscriptions run as shared executions (api/realtime/fanout.py): a handler writes each shared frame, with
its operation id, straight to its socket.
"""

import asyncio
import contextlib
import logging

import orjson
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from api.auth import token_expiry, user_from_token
from api.context import Context
from api.errors import AuthError
from api.realtime.fanout import END
from api.realtime.sessions import CHANNEL, SITES_CHANGED
from api.services.access import scope_of
from db.clock import clock

logger = logging.getLogger(__name__)
REVOKED = 4403
WATCH_KEY = "meterit.ws_watch"  # the watcher task, kept in the ASGI scope until the socket ends


async def still_valid(context: Context) -> bool:
    """Re-read the socket's user through its token (disabled, password changed, logged out, expired: False)."""
    if not context.ws_token:
        return False
    try:
        async with context.session() as session:
            context.user = await user_from_token(session, context.settings, context.ws_token)
            context.scope = await scope_of(session, context.user)
    except AuthError as err:
        logger.info("websocket of user %s refused: %s", getattr(context.user, "id", "?"), err)
        return False
    return True


async def close_revoked(context: Context, reason: str) -> None:
    """Close the socket with 4403 (it may already be closing)."""
    with contextlib.suppress(Exception):
        await context.response.close(code=REVOKED, reason=reason)


async def watch(context: Context) -> None:
    """Close the socket at token expiry, or when an event says its user's sessions ended and they did."""
    expires = token_expiry(context.ws_token or "")
    # a duration until the expiry read from the deployable's clock (tests start servers shifted in time)
    delay = max(0.0, expires - clock().timestamp()) if expires is not None else 0.0
    try:
        async with asyncio.timeout(delay):
            async for event in context.pubsub.subscribe(CHANNEL):
                if context.user is None or event.get("user_id") != context.user.id:
                    continue
                if event.get("event") == SITES_CHANGED:  # the client reconnects and gets its new sites
                    await close_revoked(context, "site access changed")
                    return
                if not await still_valid(context):
                    await close_revoked(context, "session ended")
                    return
    except TimeoutError:
        await close_revoked(context, "token expired")


def start_watch(context: Context) -> None:
    """Start the watcher of an accepted socket; MeterITGraphQL cancels it when the socket ends."""
    task = asyncio.get_running_loop().create_task(watch(context))
    context.request.scope[WATCH_KEY] = task


def stop_watch(scope: dict) -> None:
    """Cancel the watcher of a socket that ended."""
    task = scope.pop(WATCH_KEY, None)
    if task is not None:
        task.cancel()


def _frame_prefix(kind: str, operation_id: str) -> str:
    return '{"type":"' + kind + '","id":' + orjson.dumps(operation_id).decode() + ',"payload":'


async def _send_text(websocket, text: str) -> bool:
    """Write an encoded frame to the socket; False once the socket is gone or closing."""
    ws = websocket.ws
    if ws.application_state != WebSocketState.CONNECTED:
        return False
    try:
        await ws.send_text(text)
    except WebSocketDisconnect:
        return False
    return True


def _rescope(handler) -> None:
    """After a subscribe re-read the socket's scope: its running subscriptions follow the new one."""
    fanout = getattr(handler.view, "fanout", None)
    if fanout is not None and handler.connection_acknowledged:
        fanout.rescope(handler.context)


class TransportWSHandler(BaseGraphQLTransportWSHandler):
    """graphql-transport-ws: every `subscribe` re-checks the token and user first; subscriptions are shared."""

    async def run_operation(self, operation) -> None:
        """A subscription follows its shared execution; anything else runs as Strawberry runs it."""
        fanout = getattr(self.view, "fanout", None)
        if fanout is None or not fanout.shares(operation.query, operation.operation_name, self.context):
            await super().run_operation(operation)
            return
        prefix = _frame_prefix("next", operation.id)
        try:
            async with fanout.follow(
                self.context, operation.query, operation.variables, operation.operation_name
            ) as member:
                while (frame := await fanout.next_frame(member)) is not END:
                    kind, body, _ = frame
                    if kind == "error":
                        await operation.send_operation_message(
                            {"id": operation.id, "type": "error", "payload": body}
                        )
                        return
                    if operation.completed or not await _send_text(self.websocket, prefix + body + "}"):
                        return
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except WebSocketDisconnected:
            return
        except Exception as error:  # as Strawberry's run_operation: logged, and the operation completes
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)

    async def handle_subscribe(self, message) -> None:
        """Close with 4403 when the session ended since connection_init."""
        if self.connection_acknowledged and not await still_valid(self.context):
            await self.websocket.close(code=REVOKED, reason="session ended")
            return
        _rescope(self)
        await super().handle_subscribe(message)


class LegacyWSHandler(BaseGraphQLWSHandler):
    """graphql-ws (legacy): every `start` re-checks the token and user first; subscriptions are shared."""

    async def handle_async_results(self, operation_id, query, operation_name, variables) -> None:
        """A subscription follows its shared execution (messages as Strawberry's handler sends them)."""
        fanout = getattr(self.view, "fanout", None)
        if fanout is None or not fanout.shares(query, operation_name, self.context):
            await super().handle_async_results(operation_id, query, operation_name, variables)
            return
        prefix = _frame_prefix("data", operation_id)
        try:
            async with fanout.follow(self.context, query, variables, operation_name) as member:
                while (frame := await fanout.next_frame(member)) is not END:
                    kind, body, _ = frame
                    if kind == "error":
                        await self.send_message({"type": "error", "id": operation_id, "payload": body[0]})
                        return
                    if not await _send_text(self.websocket, prefix + body + "}"):
                        return
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:  # stopped by the client: Strawberry answers complete too
            with contextlib.suppress(Exception):
                await self.send_message({"type": "complete", "id": operation_id})
        except WebSocketDisconnected:
            return
        finally:
            self.tasks.pop(operation_id, None)

    async def handle_start(self, message) -> None:
        """Close with 4403 when the session ended since connection_init."""
        if self.connection_acknowledged and not await still_valid(self.context):
            await self.websocket.close(code=REVOKED, reason="session ended")
            return
        _rescope(self)
        await super().handle_start(message)
