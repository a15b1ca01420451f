"""The Web API methods of the fake Slack (``/api/<method>``): auth.test, conversations.*,
chat.postMessage, users.info, auth.revoke. Every answer is HTTP 200 with ``"ok"``; a failure is
``{"ok": false, "error": "<code>"}`` (``missing_scope`` also names ``needed`` and ``provided``)."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class SlackError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.body: dict[str, Any] = {"ok": False, "error": error, **extra}


@dataclass
class BotToken:
    token: str
    scopes: list[str]
    expires_at: float | None = None  # set for rotating tokens (12 h)
    revoked: bool = False


@dataclass
class Channel:
    id: str
    name: str
    private: bool = False
    archived: bool = False
    bot_member: bool = True
    created: int = 0
    topic: str = ""
    purpose: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)  # oldest first


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, number = base64.b64decode(cursor, validate=True).decode().partition(":")
        if kind != "offset":
            raise ValueError(cursor)
        return int(number)
    except ValueError:
        raise SlackError("invalid_cursor") from None


def _limit(params: dict[str, Any], default: int, top: int) -> int:
    try:
        return max(1, min(int(params.get("limit") or default), top))
    except (TypeError, ValueError):
        raise SlackError("invalid_limit") from None


class SlackAPI:
    """Mixin: team, users, channels, tokens, and the method handlers."""

    team_id: str
    team_name: str
    bot_user_id: str
    bot_id: str
    app_id: str

    def _init_model(self) -> None:
        self._lock = threading.RLock()
        self.tokens: dict[str, BotToken] = {}
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.posted: list[dict[str, Any]] = []  # what chat.postMessage accepted: channel, text, ts
        self._seq = 0
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _ts(self) -> str:
        return f"{int(self.now())}.{self._next():06d}"

    def _methods(self) -> dict[str, tuple[str | None, Callable[[BotToken, dict[str, Any]],
                                                                dict[str, Any]]]]:
        """method -> (scope needed, handler). ``None``: any valid token."""
        return {
            "auth.test": (None, self._auth_test),
            "auth.revoke": (None, self._auth_revoke),
            "conversations.list": ("channels:read", self._conversations_list),
            "conversations.info": ("channels:read", self._conversations_info),
            "conversations.history": ("channels:history", self._conversations_history),
            "conversations.join": ("channels:join", self._conversations_join),
            "chat.postMessage": ("chat:write", self._post_message),
            "users.info": ("users:read", self._users_info),
        }

    def _check_scope(self, token: BotToken, needed: str | None) -> None:
        if needed is not None and needed not in token.scopes:
            raise SlackError("missing_scope", needed=needed, provided=",".join(token.scopes))

    def _channel(self, token: BotToken, params: dict[str, Any]) -> Channel:
        ref = params.get("channel")
        if not ref:
            raise SlackError("invalid_arguments", response_metadata={
                "messages": ["[ERROR] missing required field: channel"]})
        ref = str(ref)
        channel = self.channels.get(ref) or next(
            (c for c in self.channels.values() if f"#{c.name}" == ref or c.name == ref), None)
        if channel is None or (channel.private and not channel.bot_member):
            raise SlackError("channel_not_found")
        return channel

    # ------------------------------------------------------------------ JSON shapes

    def channel_json(self, channel: Channel) -> dict[str, Any]:
        return {
            "id": channel.id, "name": channel.name, "is_channel": not channel.private,
            "is_group": channel.private, "is_im": False, "is_mpim": False,
            "is_private": channel.private, "created": channel.created,
            "is_archived": channel.archived, "is_general": channel.name == "general",
            "unlinked": 0, "name_normalized": channel.name, "is_shared": False,
            "is_org_shared": False, "is_pending_ext_shared": False, "pending_shared": [],
            "context_team_id": self.team_id, "updated": channel.created * 1000,
            "parent_conversation": None, "creator": next(iter(self.users), ""),
            "is_ext_shared": False, "shared_team_ids": [self.team_id],
            "pending_connected_team_ids": [], "is_member": channel.bot_member,
            "topic": {"value": channel.topic, "creator": "", "last_set": 0},
            "purpose": {"value": channel.purpose, "creator": "", "last_set": 0},
            "previous_names": [], "num_members": len(self.users) + int(channel.bot_member),
        }

    # ------------------------------------------------------------------ methods

    def _auth_test(self, token: BotToken, params: dict[str, Any]) -> dict[str, Any]:
        domain = "".join(ch for ch in self.team_name.lower() if ch.isalnum()) or "team"
        return {"ok": True, "url": f"https://{domain}.slack.com/", "team": self.team_name,
                "user": "vopix", "team_id": self.team_id, "user_id": self.bot_user_id,
                "bot_id": self.bot_id, "is_enterprise_install": False}

    def _auth_revoke(self, token: BotToken, params: dict[str, Any]) -> dict[str, Any]:
        if str(params.get("test", "")).lower() in ("1", "true"):
            return {"ok": True, "revoked": False}
        token.revoked = True
        return {"ok": True, "revoked": True}

    def _conversations_list(self, token: BotToken, params: dict[str, Any]) -> dict[str, Any]:
        types = {t.strip() for t in str(params.get("types") or "public_channel").split(",")}
        if not types <= {"public_channel", "private_channel", "mpim", "im"}:
            raise SlackError("unknown_type")
        if "private_channel" in types:
            self._check_scope(token, "groups:read")
        exclude = str(params.get("exclude_archived", "")).lower() in ("1", "true")
        rows = [c for c in self.channels.values()
                if (("private_channel" in types and c.private and c.bot_member)
                    or ("public_channel" in types and not c.private))
                and not (exclude and c.archived)]
        start, limit = _offset(params.get("cursor")), _limit(params, 100, 1000)
        page = rows[start:start + limit]
        more = start + limit < len(rows)
        return {"ok": True, "channels": [self.channel_json(c) for c in page],
                "response_metadata": {"next_cursor": _cursor(start + limit) if more else ""}}

    def _conversations_info(self, token: BotToken, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": self.channel_json(self._channel(token, params))}

    def _conversations_history(self, token: BotToken, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(token, params)
        if channel.private:
            self._check_scope(token, "groups:history")
        if not channel.bot_member:
            raise SlackError("not_in_channel")
        newest_first = list(reversed(channel.messages))
        if latest := params.get("latest"):
            newest_first = [m for m in newest_first if float(m["ts"]) < float(latest)]
        if oldest := params.get("oldest"):
            newest_first = [m for m in newest_first if float(m["ts"]) > float(oldest)]
        start, limit = _offset(params.get("cursor")), _limit(params, 100, 999)
        page = newest_first[start:start + limit]
        more = start + limit < len(newest_first)
        return {"ok": True, "messages": [dict(m) for m in page], "has_more": more,
                "pin_count": 0, "channel_actions_ts": None, "channel_actions_count": 0,
                "response_metadata": {"next_cursor": _cursor(start + limit) if more else ""}}

    def _conversations_join(self, token: BotToken, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(token, params)
        if channel.private:
            raise SlackError("method_not_supported_for_channel_type")
        if channel.archived:
            raise SlackError("is_archived")
        already = channel.bot_member
        channel.bot_member = True
        answer: dict[str, Any] = {"ok": True, "channel": self.channel_json(channel)}
        if already:
            answer["warning"] = "already_in_channel"
            answer["response_metadata"] = {"warnings": ["already_in_channel"]}
        return answer

    def _post_message(self, token: BotToken, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(token, params)
        text = params.get("text")
        if not text and not params.get("blocks") and not params.get("attachments"):
            raise SlackError("no_text")
        if text and len(str(text)) > 40000:
            raise SlackError("msg_too_long")
        if channel.archived:
            raise SlackError("is_archived")
        if not channel.bot_member and (channel.private or "chat:write.public" not in token.scopes):
            raise SlackError("not_in_channel")
        ts = self._ts()
        message = {"user": self.bot_user_id, "type": "message", "ts": ts, "bot_id": self.bot_id,
                   "app_id": self.app_id, "text": str(text or ""), "team": self.team_id,
                   "bot_profile": {"id": self.bot_id, "app_id": self.app_id, "name": "VOPIX",
                                   "deleted": False, "team_id": self.team_id}}
        if params.get("thread_ts"):
            message["thread_ts"] = str(params["thread_ts"])
        channel.messages.append(message)
        self.posted.append({"channel": channel.id, "channel_name": channel.name,
                            "text": message["text"], "ts": ts,
                            "thread_ts": message.get("thread_ts"), "token": token.token})
        return {"ok": True, "channel": channel.id, "ts": ts, "message": dict(message)}

    def _users_info(self, token: BotToken, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"ok": True, "user": {
            "id": user["id"], "team_id": self.team_id, "name": user["name"], "deleted": False,
            "real_name": user["real_name"], "tz": "Europe/Berlin", "is_bot": False,
            "profile": {"real_name": user["real_name"], "display_name": user["name"],
                        "email": user.get("email")}}}
