"""User types: a user, a site grant and the login results."""

from datetime import datetime
from typing import Annotated

import strawberry
import strawberry.experimental.pydantic

from db.central import models


@strawberry.type
class User:
    """A dashboard user."""

    id: strawberry.ID
    email: str
    role: str
    is_active: bool
    created_at: datetime

    @classmethod
    def from_model(cls, user: models.User) -> "User":
        """From a users row."""
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            role=user.role,
            is_active=user.is_active,
            created_at=user.created_at,
        )


@strawberry.type
class SiteGrant:
    """A user's role at one site: manager (read and manage) or viewer (read)."""

    user_id: strawberry.ID
    email: str
    site_id: strawberry.ID
    site_name: str
    role: str

    @classmethod
    def from_row(cls, row) -> "SiteGrant":
        """From a db.central.grants.GrantRow."""
        return cls(
            user_id=strawberry.ID(str(row.user_id)),
            email=row.email,
            site_id=strawberry.ID(str(row.site_id)),
            site_name=row.site_name,
            role=row.role,
        )


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
    retry_after_seconds: int | None = strawberry.field(
        default=None, description="Set when refused for too many failed attempts: wait this long."
    )


LoginResult = Annotated[LoginSuccess | LoginFailed, strawberry.union("LoginResult")]
