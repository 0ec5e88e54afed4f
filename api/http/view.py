"""The Strawberry ASGI view: builds the Context, authenticates keys and tokens, answers 401 in plain text."""

import json
import logging

import orjson
from cross_web import HTTPException
from starlette.responses import PlainTextResponse
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData

from api.auth import bearer_token, site_from_key, user_from_token
from api.context import Context
from api.errors import AuthError, SiteKeyRequired
from api.http.client_address import AddressGuard, request_address
from api.http.contact import ContactRecorder
from api.http.graphiql import offline_graphiql_html
from api.http.request_log import note, operation_of, root_field_of, root_fields
from api.http.site_limits import RateLimited, SiteKeyLimiter
from api.ingest.decode import decode_upload
from api.ingest.fast import answer_upload, checked_batch, edge_upload_queries
from api.login_guard import guard_from_settings
from api.realtime.fanout import Fanout
from api.realtime.ws_sessions import LegacyWSHandler, TransportWSHandler, start_watch, stop_watch
from api.services.access import scope_of

logger = logging.getLogger(__name__)


class MeterITGraphQL(GraphQL):
    """GraphQL over HTTP and both websocket protocols, with MeterIT's authentication."""

    def __init__(self, schema, *, settings, sessions, pubsub, caches=None, **kwargs) -> None:
        super().__init__(schema, **kwargs)
        self.settings, self.sessions, self.pubsub, self.caches = settings, sessions, pubsub, caches
        self.edge_upload_queries = edge_upload_queries(schema)
        self.root_fields = root_fields(schema)
        # one execution per subscription document, variables and scope, shared by its subscribers
        self.fanout = (
            Fanout(schema, max_tokens=settings.max_query_tokens) if settings.shared_subscriptions else None
        )
        self.contacts = ContactRecorder(
            sessions, pubsub, settings.offline_after_minutes, settings.degraded_queue_depth
        )
        self.address_guard = AddressGuard(settings.trusted_proxy_networks)
        self.login_guard = guard_from_settings(settings, sessions)
        self.site_limiter = SiteKeyLimiter(
            settings.rate_limit_per_minute, settings.failed_key_limit_per_minute, settings.redis_url
        )

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    async def __call__(self, scope, receive, send) -> None:
        """As Strawberry's, with HTTP 429 and Retry-After for a site or an address past its limit."""
        try:
            await super().__call__(scope, receive, send)
        except RateLimited as limited:
            response = PlainTextResponse(
                str(limited), status_code=429, headers={"Retry-After": str(limited.retry_after)}
            )
            await response(scope, receive, send)
        finally:
            if scope["type"] == "websocket":
                stop_watch(scope)

    def decode_json(self, data: str | bytes) -> object:
        """A usual upload decoded and checked at once; else orjson, or json for what orjson refuses."""
        upload = decode_upload(data)
        if upload is not None:
            return upload
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:  # NaN literals, lone surrogates...: keep the standard library's answer
            return json.loads(data)

    def parse_json(self, data: str | bytes):
        """Decode a request body; anything but a JSON object (or a batch of them) is a clear HTTP 400."""
        try:
            decoded = self.decode_json(data)
        except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError is a ValueError
            raise HTTPException(400, "Unable to parse request body as JSON") from err
        items = decoded if isinstance(decoded, list) else [decoded]
        if not items or not all(isinstance(item, dict) for item in items):
            raise HTTPException(400, "The request body must be a JSON object with a `query`")
        return decoded

    async def get_context(self, request, response) -> Context:
        """A Context with the caller resolved from X-API-Key or Authorization (HTTP 401 when wrong).

        A site key used from outside the site's allowed networks is HTTP 403, whatever the operation.
        """
        context = Context(
            settings=self.settings,
            sessions=self.sessions,
            pubsub=self.pubsub,
            request=request,
            response=response,
            caches=self.caches,
            login_guard=self.login_guard,
        )
        if request.scope["type"] != "http":
            return context
        key = request.headers.get("x-api-key")
        token = bearer_token(request.headers.get("authorization"))
        try:
            async with context.session() as session:
                if key:
                    context.site = await site_from_key(session, key)
                elif token:
                    context.user = await user_from_token(session, self.settings, token)
                    context.scope = await scope_of(session, context.user)
        except AuthError as err:
            if key:  # wrong keys are limited per client address, never per site (api/http/site_limits.py)
                await self.site_limiter.count_failure(
                    request_address(request, self.settings.trusted_proxy_networks)
                )
            raise HTTPException(401, str(err)) from err
        if context.site is not None and context.site.allowed_networks:
            peer = request.scope.get("client") or (None, 0)
            forwarded = ",".join(request.headers.getlist("x-forwarded-for")) or None
            reason = self.address_guard.refusal(context.site, peer[0], forwarded)
            if reason:
                raise HTTPException(403, reason)
        if context.site is not None:
            note(request, site_id=context.site.id)
            await self.contacts.heard(context.site.id)
            await self.site_limiter.count_site(context.site.id)
        return context

    async def on_ws_connect(self, context: Context):
        """Accept a websocket only with a valid user token in the connection_init payload."""
        params = context.connection_params or {}
        if not isinstance(params, dict):
            raise ConnectionRejectionError({"reason": "connection_init payload must be an object"})
        raw = params.get("Authorization") or params.get("authorization")
        token = bearer_token(raw) if raw else params.get("token")
        if not token:
            raise ConnectionRejectionError({"reason": "Authorization: Bearer <token> required"})
        try:
            async with context.session() as session:
                context.user = await user_from_token(session, self.settings, token)
                context.scope = await scope_of(session, context.user)
        except AuthError as err:
            raise ConnectionRejectionError({"reason": str(err)}) from err
        context.ws_token = token
        start_watch(context)
        return None

    async def execute_operation(
        self, request, request_adapter, request_data, context, root_value, sub_response
    ):
        """The edge's own upload document without graphql-core (api/ingest/fast.py); the rest as usual."""
        method = request_adapter.method
        data = request_data if isinstance(request_data, GraphQLRequestData) else None
        if data is not None:
            field = root_field_of(data.query)
            note(
                request,
                operation=operation_of(data.query, data.operation_name),
                root_field=field if field in self.root_fields else "other",
            )
        batch = checked_batch(self.edge_upload_queries, method, request_data, context)
        if batch is not None and (result := await answer_upload(context, batch)) is not None:
            return result
        return await super().execute_operation(
            request=request,
            request_adapter=request_adapter,
            request_data=request_data,
            context=context,
            root_value=root_value,
            sub_response=sub_response,
        )

    async def process_result(self, request, result):
        """Turn a missing site key on an edge operation into HTTP 401 (gql then sees the status)."""
        for error in result.errors or ():
            if isinstance(error.original_error, SiteKeyRequired):
                raise HTTPException(401, str(error.original_error))
        return await super().process_result(request, result)

    async def render_graphql_ide(self, request):
        """GraphiQL served from this package's static files (works with no internet)."""
        from starlette.responses import HTMLResponse

        return HTMLResponse(offline_graphiql_html(self.graphql_ide_html))
