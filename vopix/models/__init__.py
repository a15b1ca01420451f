"""Every table, imported here so alembic and create-all see them all."""

from sqlmodel import SQLModel

from vopix.models.accounts import AuthSession, LoginAttempt, LoginNonce, RefreshToken, User
from vopix.models.audit import AccessLog
from vopix.models.vault import Secret

metadata = SQLModel.metadata

__all__ = [
    "AccessLog",
    "AuthSession",
    "LoginAttempt",
    "LoginNonce",
    "RefreshToken",
    "Secret",
    "User",
    "metadata",
]
