"""The statuses, kinds and stages the platform stores and passes around, one enum each.

They are StrEnums: stored as their plain text, equal to it, so rows written before them read
back the same. Code compares members, never prose or key prefixes.
"""

from __future__ import annotations

from enum import StrEnum


class MessageStatus(StrEnum):
    COMPLETE = "complete"
    STREAMING = "streaming"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"  # cut off: the process streaming it died (core/agent/turn_lease.py)
    ERROR = "error"
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # a tool call waits for the person
    CONFIRMING = "confirming"  # their Confirm is running it (claimed once)
    CANCELLED = "cancelled"
    REFUSED = "refused"  # a confirmation the channel cannot ask for
    FAILED = "failed"  # a tool call that ran and failed (or named no tool)


class TurnEventKind(StrEnum):
    USER_MESSAGE = "user_message"
    TEXT = "text"
    TOOL_RESULT = "tool_result"
    DONE = "done"
    ERROR = "error"


class InboundStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class InboundStage(StrEnum):
    """How far processing of an inbound channel event got: a restart resumes from here."""

    RECEIVED = "received"
    STORED = "stored"  # the person's message is in the history
    ANSWERED = "answered"  # the reply is queued as outbound rows
    DONE = "done"


class OutboundStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a delivery loop (alert messages, vopix.channels.alerts)
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    SKIPPED = "skipped"


class NoticeKind(StrEnum):
    """What an in-app notice is about; pages pick the notices they show by kind."""

    GENERAL = "general"
    QUOTA = "quota"
    SECURITY = "security"
    WHATSAPP_WINDOW = "whatsapp_window"
    PAYMENT_FAILED = "payment_failed"  # Stripe retries; read once the payment goes through
    BILLING = "billing"  # a paid plan that ended


class MailKind(StrEnum):
    """What a mail is about. Service-critical kinds go whatever the person chose; the others
    respect their choice and carry an unsubscribe link."""

    SECURITY = "security"
    PASSWORD_RESET = "password_reset"
    EMAIL_CONFIRM = "email_confirm"
    QUOTA = "quota"
    BILLING = "billing"  # a failed payment, a plan that ended: service mail, always sent
    ACCOUNT = "account"  # an account deletion's confirmation and receipt: service mail
    PRIVACY = "privacy"  # a data export is ready (P28): service mail, always sent
    POLICY = "policy"  # a new privacy policy version (P34): service mail, always sent
    TASK = "task"  # a task message its channel refused (it waits in the web chat): service mail
    PRODUCT_NEWS = "product_news"
    TEST = "test"


OPTIONAL_MAIL = frozenset({MailKind.QUOTA, MailKind.PRODUCT_NEWS})


class MailStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # given up: a permanent refusal, or every attempt spent


class StripeEventStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"  # claimed by a billing worker (lease)
    DONE = "done"
    FAILED = "failed"  # every attempt spent: the operator's `billing sync` is the way out


class ConnectionStatus(StrEnum):
    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"  # the service refused the token: not used until reconnected
    REVOKED = "revoked"  # the service said the access was revoked (Slack token_revoked): reconnect


class TokenPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"
    EMAIL_CONFIRM = "email_confirm"  # the new address confirms an email change
    EMAIL_UNDO = "email_undo"  # the old address takes an email change back (7 days)
    NOT_ME = "not_me"  # "this wasn't me" in a security alert
    ACCOUNT_RESTORE = "account_restore"  # undo an account deletion within its grace period


class RunStatus(StrEnum):
    """How a sandboxed script run ended (issue 16)."""

    OK = "ok"  # exit status 0
    FAILED = "failed"  # a non-zero exit status
    STOPPED = "stopped"  # a limit ended it: time, CPU, memory, file size, output
    ERROR = "error"  # the sandbox itself could not run it
