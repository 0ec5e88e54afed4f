"""How every central MCP tool call is authorised and given a database session."""

import hmac
from dataclasses import dataclass

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth import bearer_token, user_from_token
from api.errors import ApiError, AuthError
from api.services.access import ADMIN, scope_of
from api.settings import CentralSettings
from causes import Cause, text
from db.engine import session_scope
from db.errors import DbError


@dataclass(frozen=True)
class ToolRunner:
    """Runs a tool's work(session, caller) with the caller's Scope (its sites); token is the stdio credential."""

    settings: CentralSettings
    sessions: async_sessionmaker[AsyncSession]
    token: str | None = None
    admin_key: str | None = None

    async def __call__(self, ctx: Context, work, admin: bool = False):
        """The work's answer; ToolError when the caller is not authorised or the work is refused."""
        settings, sessions, token, admin_key = self.settings, self.sessions, self.token, self.admin_key
        request = getattr(ctx.request_context, "request", None) if ctx else None
        credential = bearer_token(request.headers.get("authorization")) if request is not None else token
        if not credential:
            raise ToolError(text(Cause.MCP_TOKEN_MISSING))
        try:
            async with session_scope(sessions) as session:
                if admin_key and hmac.compare_digest(credential.encode(), admin_key.encode()):
                    caller = ADMIN
                else:
                    caller = await scope_of(session, await user_from_token(session, settings, credential))
                if admin and not caller.is_admin:
                    raise ToolError(f"{text(Cause.ADMIN_REQUIRED)} ({caller.name} is {caller.role})")
                return await work(session, caller)
        except AuthError as err:
            raise ToolError(f"not authorised: {err}") from err
        except (ApiError, DbError, ValueError) as err:
            raise ToolError(str(err)) from err
