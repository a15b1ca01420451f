"""Every table, imported here so alembic and create-all see them all."""

from sqlmodel import SQLModel

from vopix.models.accounts import AuthSession, LoginAttempt, LoginNonce, RefreshToken, User
from vopix.models.agent import AgentProfile
from vopix.models.audit import AccessLog
from vopix.models.billing import BillingAccount, StripeEvent
from vopix.models.channels import ChannelLink, ChannelLinkCode, InboundEvent, OutboundMessage
from vopix.models.chat import Conversation, Message
from vopix.models.integrations import IntegrationActivity, IntegrationConnection, OAuthState
from vopix.models.mail import ActionToken, MailOutbox
from vopix.models.privacy import DataExport
from vopix.models.sandbox import ScriptMark, ScriptRun
from vopix.models.security import KnownSignIn
from vopix.models.staff import PolicyDismissal, PolicyVersion, StaffAudit, StaffRole
from vopix.models.tasks import Task, TaskRun, TaskSettings
from vopix.models.turns import WebTurn
from vopix.models.usage import Notice, Plan, UsageDaily
from vopix.models.vault import Secret
from vopix.models.workspace import WorkspaceChunk, WorkspaceEntry, WorkspaceText, WorkspaceUsage

metadata = SQLModel.metadata

__all__ = [
    "AccessLog",
    "ActionToken",
    "AgentProfile",
    "AuthSession",
    "BillingAccount",
    "ChannelLink",
    "ChannelLinkCode",
    "Conversation",
    "DataExport",
    "InboundEvent",
    "IntegrationActivity",
    "IntegrationConnection",
    "KnownSignIn",
    "LoginAttempt",
    "LoginNonce",
    "MailOutbox",
    "Message",
    "Notice",
    "OAuthState",
    "OutboundMessage",
    "Plan",
    "PolicyDismissal",
    "PolicyVersion",
    "RefreshToken",
    "ScriptMark",
    "ScriptRun",
    "Secret",
    "StaffAudit",
    "StaffRole",
    "StripeEvent",
    "Task",
    "TaskRun",
    "TaskSettings",
    "UsageDaily",
    "User",
    "WebTurn",
    "WorkspaceChunk",
    "WorkspaceEntry",
    "WorkspaceText",
    "WorkspaceUsage",
    "metadata",
]
