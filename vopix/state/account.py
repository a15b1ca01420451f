"""Account page: email, password, which mail to get, active sessions."""

from __future__ import annotations

import asyncio

import reflex as rx

from vopix.core import accounts, sessions
from vopix.core.kinds import MailKind
from vopix.core.mail import preferences
from vopix.state.session import REFRESH_SCRIPT, Reply, SessionState, for_user

# The ids the account page gives the change-password fields (components.ui.field: name with "-").
PASSWORD_FIELDS = ("current-password", "new-password", "confirm-password")
EMAIL_FIELDS = ("email", "email-password")


def _ago(seconds: float) -> str:
    if seconds < 90:
        return "just now"
    if seconds < 5400:
        return f"{int(seconds // 60)} minutes ago"
    if seconds < 129600:
        return f"{int(seconds // 3600)} hours ago"
    return f"{int(seconds // 86400)} days ago"


def _signed_out(n: int) -> str:
    return f" Signed out {n} other session{'s' if n != 1 else ''}." if n else ""


class AccountState(SessionState):
    session_rows: list[dict[str, str]] = []
    marketing_opt_in: bool = False
    quota_mail_opt_in: bool = True
    mail_message: str = ""
    mail_error: str = ""
    password_message: str = ""
    password_error: str = ""
    email_message: str = ""
    email_error: str = ""
    sessions_message: str = ""

    async def _load(self, user_id: int) -> None:
        from vopix.core.agent import profile
        from vopix.core.clock import local_time, utcnow

        rows = await asyncio.to_thread(sessions.list_sessions, user_id, self._session_id)
        zone = await asyncio.to_thread(profile.timezone_of, user_id)
        now = utcnow()
        self.session_rows = [
            {
                "id": str(r.id),
                "device": r.device,
                "ip": r.ip or "unknown",
                "last_seen": "this device" if r.current else _ago((now - r.last_seen_at).total_seconds()),
                "started": local_time(r.created_at, zone),
                "current": "yes" if r.current else "",
            }
            for r in rows
        ]
        user = await asyncio.to_thread(accounts.get_user, user_id)
        if user:
            self.marketing_opt_in = user.marketing_opt_in
            self.user_email = user.email
        await self._load_mail_choices(user_id)

    @rx.event
    @for_user
    async def load(self, user_id: int) -> Reply:
        await self._load(user_id)
        return rx.call_script(REFRESH_SCRIPT)

    @rx.event
    @for_user
    async def end_session(self, user_id: int, session_id: str) -> Reply:
        try:
            sid = int(session_id)
        except ValueError:
            return None
        ended = await asyncio.to_thread(sessions.end_session, sid, user_id=user_id, reason="ended_by_user")
        self.sessions_message = "Session ended." if ended else "That session was already ended."
        if sid == self._session_id:
            return SessionState.log_out
        await self._load(user_id)
        return None

    @rx.event
    @for_user
    async def end_other_sessions(self, user_id: int) -> None:
        n = await asyncio.to_thread(sessions.end_other_sessions, user_id, self._session_id)
        self.sessions_message = f"Ended {n} other session{'s' if n != 1 else ''}."
        await self._load(user_id)
        return None

    @rx.event
    @for_user
    async def change_password(self, user_id: int, form: dict) -> Reply:
        self.password_message = self.password_error = ""
        new = str(form.get("new_password", ""))
        if new != str(form.get("confirm_password", "")):
            self.password_error = "The two new passwords do not match."
            return None
        try:
            # The check of the current password is throttled like a login; other sessions end.
            change = await asyncio.to_thread(
                accounts.change_password, user_id, str(form.get("current_password", "")), new,
                keep_session_id=self._session_id, ip=self.router.session.client_ip,
                device=sessions.describe_user_agent(self.router.headers.user_agent),
            )
        except accounts.AccountError as exc:
            self.password_error = str(exc)
            return None
        self.password_message = "Password changed." + _signed_out(change.sessions_ended)
        await self._load(user_id)
        # Only a change that went through empties the fields: after an error, what was typed
        # stays for the person to correct.
        return [rx.set_value(field_id, "") for field_id in PASSWORD_FIELDS]

    @rx.event
    @for_user
    async def change_email(self, user_id: int, form: dict) -> Reply:
        self.email_message = self.email_error = ""
        try:
            # Nothing changes until the new address opens the link we mail it (/confirm-email).
            asked = await asyncio.to_thread(
                accounts.change_email, user_id, str(form.get("password", "")), str(form.get("email", "")),
                ip=self.router.session.client_ip,
            )
        except accounts.AccountError as exc:
            self.email_error = str(exc)
            return None
        if not asked.new_email:
            self.email_message = f"Your account already uses {asked.user.email}."
            return None
        self.email_message = (
            f"We sent a link to {asked.new_email}; your address changes when you open it."
        )
        # As for the password: only a change that went through empties the fields.
        return [rx.set_value(field_id, "") for field_id in EMAIL_FIELDS]

    async def _load_mail_choices(self, user_id: int) -> None:
        choices = await asyncio.to_thread(preferences.choices, user_id)
        if choices is not None:
            self.quota_mail_opt_in, self.marketing_opt_in = choices.quota, choices.product_news

    async def _set_mail(self, user_id: int, kind: MailKind, value: bool) -> None:
        """Saved at once; the page then shows what is stored, not what was clicked."""
        self.mail_message = self.mail_error = ""
        saved = await asyncio.to_thread(preferences.set_choice, user_id, kind, bool(value))
        await self._load_mail_choices(user_id)
        if not saved:
            self.mail_error = "Your choice could not be saved. Reload the page and try again."
            return
        label = preferences.NAMES[kind].capitalize()
        self.mail_message = f"Saved. {label}: {'on' if value else 'off'}."

    @rx.event
    @for_user
    async def set_marketing(self, user_id: int, value: bool) -> None:
        await self._set_mail(user_id, MailKind.PRODUCT_NEWS, value)
        return None

    @rx.event
    @for_user
    async def set_quota_mail(self, user_id: int, value: bool) -> None:
        await self._set_mail(user_id, MailKind.QUOTA, value)
        return None
