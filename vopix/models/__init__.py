"""Every table, imported here so alembic and create-all see them all."""

from sqlmodel import SQLModel

from vopix.models.accounts import AuthSession, LoginAttempt, LoginNonce, RefreshToken, User
from vopix.models.agent import AgentProfile
from vopix.models.audit import AccessLog
from vopix.models.channels import ChannelLink, ChannelLinkCode, InboundEvent, OutboundMessage
from vopix.models.chat import Conversation, Message
from vopix.models.mail import ActionToken, MailOutbox
from vopix.models.security import KnownSignIn
from vopix.models.usage import Notice, Plan, UsageDaily
from vopix.models.vault import Secret
from vopix.models.workspace import WorkspaceChunk, WorkspaceEntry, WorkspaceText, WorkspaceUsage

metadata = SQLModel.metadata

__all__ = [
    "AccessLog",
    "ActionToken",
    "AgentProfile",
    "AuthSession",
    "ChannelLink",
    "ChannelLinkCode",
    "Conversation",
    "InboundEvent",
    "KnownSignIn",
    "LoginAttempt",
    "LoginNonce",
    "MailOutbox",
    "Message",
    "Notice",
    "OutboundMessage",
    "Plan",
    "RefreshToken",
    "Secret",
    "UsageDaily",
    "User",
    "WorkspaceChunk",
    "WorkspaceEntry",
    "WorkspaceText",
    "WorkspaceUsage",
    "metadata",
]
