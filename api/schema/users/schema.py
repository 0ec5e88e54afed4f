"""User queries: me, users and siteGrants."""

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.permissions import IsAdmin
from api.schema.users.types import SiteGrant, User
from api.services import users as service


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

    @strawberry.field(permission_classes=[IsAdmin])
    async def site_grants(self, info: Info, user_id: strawberry.ID | None = None) -> list[SiteGrant]:
        """Who has which role at which site (every user's, or one user's)."""
        async with info.context.session() as session:
            rows = await service.list_grants(session, to_int(user_id, "user id"))
        return [SiteGrant.from_row(r) for r in rows]
