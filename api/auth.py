"""Credentials: site API keys (X-API-Key) and dashboard JWTs (Authorization: Bearer)."""

import logging
from datetime import datetime, timedelta

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import AuthError
from api.settings import CentralSettings
from causes import Cause, text
from db.central.models import User
from db.central.sites import SiteIdentity, identify_site
from db.clock import clock, utcnow

logger = logging.getLogger(__name__)
ALGORITHM = "HS256"


def issue_token(settings: CentralSettings, user: User) -> tuple[str, datetime]:
    """A signed token for a user and its expiry time."""
    expires = utcnow() + timedelta(minutes=settings.jwt_expire_minutes)
    claims = {"sub": str(user.id), "role": user.role, "exp": expires, "ver": user.token_version}
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM), expires


def bearer_token(value: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value, else None."""
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def user_from_token(session: AsyncSession, settings: CentralSettings, token: str) -> User:
    """The active user a token was issued to; AuthError when invalid, expired or the user is disabled."""
    try:
        # expiry is checked against the deployable's clock, not PyJWT's own reading of the system time
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "require": ["exp", "sub", "ver"]},
        )
        user_id = int(claims["sub"])
        version = int(claims["ver"])
        expired = float(claims["exp"]) <= clock().timestamp()
    except (jwt.PyJWTError, KeyError, TypeError, ValueError) as err:
        raise AuthError(text(Cause.TOKEN_INVALID)) from err
    if expired:
        raise AuthError(text(Cause.TOKEN_INVALID))
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise AuthError("user disabled or unknown")
    if version != user.token_version:  # a password change, reset or logout since the token was issued
        raise AuthError(text(Cause.SESSION_ENDED))
    return user


def token_expiry(token: str) -> float | None:
    """The POSIX time a (checked) token expires, or None when it cannot be read."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
        return float(claims["exp"])
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None


async def site_from_key(session: AsyncSession, key: str) -> SiteIdentity:
    """The active site owning an API key; AuthError otherwise."""
    site = await identify_site(session, key.strip())
    if site is None:
        raise AuthError(text(Cause.SITE_KEY_INVALID))
    return site
