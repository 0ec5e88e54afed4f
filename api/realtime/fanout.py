"""Websocket subscriptions executed once per (document, variables, operation, scope) and fanned out.

Without this, every subscriber of an event ran its own pub/sub stream and its own graphql-core execution,
and each payload was encoded once per socket: 100 subscribers of one site's readings cost 100 executions
per upload in each worker. Here the first subscriber of a key starts one Strawberry stream (the schema's
own subscription, with validation, permissions and resolvers as usual) in a context that carries the
subscriber's Scope; each result is encoded to JSON text once, and every member of the key receives that
text in its own bounded queue, in the order the execution produced it. A member's handler adds its
operation id around the text and writes it to its socket (api/realtime/ws_sessions.py).

Authorisation stays per subscriber: members share an execution only when their scopes are equal, and
every frame carries the site of the pub/sub event it came from, which is checked against the member's
scope as it is now before the frame is written (as each subscriber's resolver did per event before). A
socket whose scope changed (it is re-read on every subscribe) moves its members to the execution of the
new scope at once (`rescope`); an event published at that very moment may reach it from both executions or
from neither. Operations that are not subscriptions, or that do not parse, take Strawberry's own path.
"""

import asyncio
import collections
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from functools import lru_cache

import orjson
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from strawberry.types.execution import ExecutionResult, PreExecutionError

from api.services.access import Scope

logger = logging.getLogger(__name__)
QUEUE_SIZE = 1000  # frames a stalled member may fall behind before it loses its oldest (as in pub/sub)
END = ("end", "", None)
BEFORE_EVENTS = object()  # the site tag of results made before any event (e.g. "no site with id"): for all


def scope_key(scope: Scope | None) -> tuple | None:
    """What decides what a subscriber may see: its role and readable sites (None: no scope, never shared)."""
    if scope is None:
        return None
    return (scope.role, None if scope.sites is None else tuple(sorted(scope.sites.items())))


class Member:
    """One subscriber's operation: its execution's frames (kind, JSON text or errors, site), in order."""

    def __init__(self, context) -> None:
        self.context = context
        self.frames: collections.deque = collections.deque(maxlen=QUEUE_SIZE)
        self.wake = asyncio.Event()
        self.execution: Execution | None = None

    def put(self, frame: tuple[str, object, object]) -> None:
        """Queue a frame (a full queue drops its oldest: a stalled socket never holds the others back)."""
        self.frames.append(frame)
        self.wake.set()

    async def get(self) -> tuple[str, object, object]:
        """The next frame, waiting for one."""
        while not self.frames:
            self.wake.clear()
            await self.wake.wait()
        return self.frames.popleft()


@dataclasses.dataclass(eq=False)
class Execution:
    """One running subscription whose results every member with the same key receives."""

    key: tuple
    operation: tuple  # query, operation name, encoded variables, variables
    context: object = None
    members: set = dataclasses.field(default_factory=set)
    task: asyncio.Task | None = None
    channel: str | None = None  # the pub/sub channel its resolver follows (for the subscriptions gauge)
    site: object = BEFORE_EVENTS  # site id of the event the resolver is working on (None: fleet-wide)


class _ChannelNoting:
    """The execution's pub/sub: notes which channel the resolver follows, otherwise the worker's own."""

    def __init__(self, pubsub, execution: Execution) -> None:
        self._pubsub, self._execution = pubsub, execution

    def __getattr__(self, name):
        return getattr(self._pubsub, name)

    async def subscribe(self, channel: str):
        """As PubSub.subscribe; notes the channel, and the site of each event as the resolver takes it."""
        self._execution.channel = channel
        async with contextlib.aclosing(self._pubsub.subscribe(channel)) as events:
            async for event in events:
                site = event.get("site_id")
                self._execution.site = int(site) if site is not None else None
                yield event


class Fanout:
    """This worker's shared subscription executions, by key."""

    def __init__(self, schema, max_tokens: int | None = None) -> None:
        self.schema = schema
        self.executions: dict[tuple, Execution] = {}
        self._is_subscription = lru_cache(maxsize=256)(self._parse_is_subscription)
        self._max_tokens = max_tokens
        self._by_context: dict[int, set[Member]] = {}  # the members of each socket's context

    def _parse_is_subscription(self, query: str, operation_name: str | None) -> bool:
        try:
            document = parse(query, max_tokens=self._max_tokens)
        except GraphQLError:  # the usual path reports it
            return False
        operation = get_operation_ast(document, operation_name)
        return operation is not None and operation.operation == OperationType.SUBSCRIPTION

    def shares(self, query: object, operation_name: object, context) -> bool:
        """True when this operation runs as a shared execution (a subscription of a caller with a scope)."""
        if not isinstance(query, str) or not (operation_name is None or isinstance(operation_name, str)):
            return False
        return scope_key(getattr(context, "scope", None)) is not None and self._is_subscription(
            query, operation_name
        )

    @contextlib.asynccontextmanager
    async def follow(self, context, query: str, variables, operation_name) -> AsyncIterator[Member]:
        """Join the execution of this operation (starting it if needed) for as long as the block runs."""
        try:
            encoded_variables = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            encoded_variables = repr(variables).encode()
        operation = (query, operation_name, encoded_variables, variables)
        member = Member(context)
        self._join(member, operation)
        try:
            yield member
        finally:
            self._leave(member)

    async def next_frame(self, member: Member) -> tuple[str, object, object]:
        """The member's next frame (kind, body, site); never one of a site outside the member's scope now."""
        while True:
            frame = await member.get()
            kind, _, site = frame
            if kind != "next" or site is BEFORE_EVENTS:
                return frame
            scope = member.context.scope
            if scope is None or not scope.reads(site):
                continue
            # a scope changed without `rescope` (the session watcher re-reads it too): follow the new one
            if member.execution is not None and scope_key(scope) != member.execution.key[-1]:
                self._move(member)
            return frame

    def rescope(self, context) -> None:
        """Move the members of a socket whose scope changed to the executions of the new scope."""
        for member in list(self._by_context.get(id(context), ())):
            if member.execution is not None and scope_key(context.scope) != member.execution.key[-1]:
                self._move(member)

    def _move(self, member: Member) -> None:
        operation = member.execution.operation
        self._leave(member)
        self._join(member, operation)

    def _join(self, member: Member, operation: tuple) -> None:
        query, operation_name, encoded_variables, variables = operation
        key = (query, operation_name, encoded_variables, scope_key(member.context.scope))
        execution = self.executions.get(key)
        if execution is None:
            execution = Execution(key, operation)
            execution.context = dataclasses.replace(
                member.context,
                request=None,
                response=None,
                connection_params=None,
                ws_token=None,
                pubsub=_ChannelNoting(member.context.pubsub, execution),
            )
            self.executions[key] = execution
            execution.task = asyncio.get_running_loop().create_task(self._run(execution))
        execution.members.add(member)
        member.execution = execution
        self._by_context.setdefault(id(member.context), set()).add(member)

    def _leave(self, member: Member) -> None:
        execution, member.execution = member.execution, None
        if execution is None:
            return
        execution.members.discard(member)
        mine = self._by_context.get(id(member.context), set())
        mine.discard(member)
        if not mine:
            self._by_context.pop(id(member.context), None)
        if not execution.members:
            self._forget(execution)
            execution.task.cancel()

    def _forget(self, execution: Execution) -> None:
        if self.executions.get(execution.key) is execution:
            del self.executions[execution.key]

    def _deliver(self, execution: Execution, frame: tuple[str, object, object]) -> None:
        for member in execution.members:
            member.put(frame)

    async def _run(self, execution: Execution) -> None:
        query, operation_name, _, variables = execution.operation
        try:
            stream = await self.schema.subscribe(
                query,
                variable_values=variables,
                context_value=execution.context,
                operation_name=operation_name,
            )
            async with contextlib.aclosing(stream):
                first = True
                async for result in stream:
                    if first and isinstance(result, PreExecutionError):
                        errors = [e.formatted for e in result.errors or ()]
                        self._deliver(execution, ("error", errors, BEFORE_EVENTS))
                        return
                    first = False
                    self._deliver(execution, ("next", encode_result(result), execution.site))
        except asyncio.CancelledError:
            raise
        except Exception:  # as Strawberry's own handler: logged, and the members' operations complete
            logger.exception("shared subscription execution failed")
        finally:
            self._forget(execution)  # a new member starts a new execution from here on
            self._deliver(execution, END)

    def extra_members(self) -> dict[str, int]:
        """Subscribers beyond one per execution, by pub/sub channel (each execution holds one stream)."""
        extra: dict[str, int] = {}
        for execution in self.executions.values():
            if execution.channel:
                extra[execution.channel] = extra.get(execution.channel, 0) + len(execution.members) - 1
        return extra


def encode_result(result: ExecutionResult) -> str:
    """The JSON text of a result's `payload` (data, errors, extensions), encoded once for every member."""
    payload: dict = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return orjson.dumps(payload, default=str).decode()
