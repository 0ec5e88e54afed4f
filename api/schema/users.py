"""Users: login (JWT), me, list, create, update."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.permissions import IsAdmin
from api.schema.types import User
from api.services import users as service


@strawberry.type
class LoginSuccess:
    """A token for `Authorization: Bearer <token>` (and websocket connection_init)."""

    token: str
    expires_at: datetime
    user: User


@strawberry.type
class LoginFailed:
    """Wrong email or password, or a disabled user."""

    reason: str


LoginResult = Annotated[LoginSuccess | LoginFailed, strawberry.union("LoginResult")]


@strawberry.type
class UsersQuery:
    """Queries about users."""

    @strawberry.field
    def me(self, info: Info) -> User | None:
        """The logged-in user, or null without a token."""
        user = info.context.user
        return User.from_model(user) if user else None

    @strawberry.field(permission_classes=[IsAdmin])
    async def users(self, info: Info) -> list[User]:
        """Every user."""
        async with info.context.session() as session:
            return [User.from_model(u) for u in await service.list_users(session)]


@strawberry.type
class UsersMutation:
    """Login and user administration."""

    @strawberry.mutation
    async def login(self, info: Info, email: str, password: str) -> LoginResult:
        """Exchange email and password for a token."""
        async with info.context.session() as session:
            found = await service.login(session, info.context.settings, email, password)
        if found is None:
            return LoginFailed(reason="wrong email or password")
        user, token, expires = found
        return LoginSuccess(token=token, expires_at=expires, user=User.from_model(user))

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def create_user(self, info: Info, email: str, password: str, role: str) -> User:
        """Create a user (role admin or viewer)."""
        async with info.context.session() as session:
            return User.from_model(await service.create_user(session, email, password, role))

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def update_user(
        self, info: Info, id: strawberry.ID, role: str | None = None, is_active: bool | None = None
    ) -> User:
        """Change a user's role or disable them."""
        async with info.context.session() as session:
            return User.from_model(await service.update_user(session, to_int(id, "user id"), role, is_active))
