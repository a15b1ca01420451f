"""Channels page: link and unlink Telegram and WhatsApp, see WhatsApp's reply window."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from urllib.parse import quote

import reflex as rx
import segno

from vopix.channels import links, telegram, whatsapp
from vopix.core import sessions, usage
from vopix.core.agent import profile
from vopix.core.clock import local_time, utcnow
from vopix.core.kinds import NoticeKind
from vopix.models import Notice
from vopix.state.session import REFRESH_SCRIPT, Reply, SessionState, for_user

WAIT_SECONDS = 1.0


def qr_svg_data_uri(text: str) -> str:
    """A QR code of `text` as an SVG data URI, made on the server (segno, pure Python)."""
    return segno.make(text, error="m").svg_data_uri(scale=5, border=2, dark="#111", light="#fff")


class ChannelsState(SessionState):
    telegram_enabled: bool = False
    telegram_linked: bool = False
    telegram_name: str = ""
    telegram_since: str = ""
    telegram_link: str = ""
    telegram_qr: str = ""
    whatsapp_enabled: bool = False
    whatsapp_linked: bool = False
    whatsapp_name: str = ""
    whatsapp_since: str = ""
    whatsapp_window: str = ""
    whatsapp_code: str = ""
    whatsapp_number: str = ""
    whatsapp_chat_link: str = ""
    code_expires: str = ""
    waiting: bool = False
    notices: list[dict[str, str]] = []
    message: str = ""
    error: str = ""
    _zone: str = "UTC"  # the person's time zone, read once per page load

    async def _refresh(self, user_id: int) -> None:
        self._show(*await self._fetch(user_id))

    @staticmethod
    async def _fetch(user_id: int) -> tuple[dict[str, links.LinkView], list[Notice]]:
        linked = await asyncio.to_thread(links.links_for, user_id)
        notices = await asyncio.to_thread(usage.unread_notices, user_id, kind=NoticeKind.WHATSAPP_WINDOW)
        return linked, notices

    def _when(self, moment: datetime) -> str:
        return local_time(moment, self._zone)

    def _show(self, linked: dict[str, links.LinkView], notices: list[Notice]) -> None:
        self.telegram_enabled = telegram.enabled()
        self.whatsapp_enabled = whatsapp.enabled()
        tg, wa = linked.get("telegram"), linked.get("whatsapp")
        self.telegram_linked = tg is not None
        self.telegram_name = (tg.display_name or f"chat {tg.external_id}") if tg else ""
        self.telegram_since = self._when(tg.linked_at) if tg else ""
        self.whatsapp_linked = wa is not None
        self.whatsapp_name = f"+{wa.external_id}" if wa else ""
        self.whatsapp_since = self._when(wa.linked_at) if wa else ""
        if wa and whatsapp.window_open(wa.last_inbound_at) and wa.last_inbound_at:
            self.whatsapp_window = f"open until {self._when(wa.last_inbound_at + whatsapp.WINDOW)}"
        else:
            self.whatsapp_window = "closed: send any WhatsApp message to reopen it" if wa else ""
        if tg:
            self.telegram_link = self.telegram_qr = ""
        if wa:
            self.whatsapp_code = self.whatsapp_chat_link = ""
        self.whatsapp_number = whatsapp.platform_number()
        self.notices = [{"id": str(n.id), "text": n.text, "time": self._when(n.created_at)} for n in notices]

    @rx.event
    @for_user
    async def load(self, user_id: int) -> Reply:
        self.message = self.error = ""
        self._zone = await asyncio.to_thread(profile.timezone_of, user_id)
        await self._refresh(user_id)
        return rx.call_script(REFRESH_SCRIPT)

    @rx.event
    @for_user
    async def connect_telegram(self, user_id: int) -> Reply:
        self.message = self.error = ""
        if not telegram.enabled():
            self.error = "Telegram is not set up on this server."
            return None
        new = await asyncio.to_thread(links.create_code, user_id, "telegram")
        try:
            self.telegram_link = telegram.link_url(new.code)
        except ValueError:
            self.error = "The Telegram bot's username is not configured on this server."
            return None
        self.telegram_qr = qr_svg_data_uri(self.telegram_link)
        self.code_expires = self._when(new.expires_at)
        self.waiting = True
        return ChannelsState.wait_for_link

    @rx.event
    @for_user
    async def connect_whatsapp(self, user_id: int) -> Reply:
        self.message = self.error = ""
        if not whatsapp.enabled():
            self.error = "WhatsApp is not set up on this server."
            return None
        new = await asyncio.to_thread(links.create_code, user_id, "whatsapp")
        self.whatsapp_code = new.code
        self.whatsapp_number = whatsapp.platform_number()
        digits = re.sub(r"\D", "", self.whatsapp_number)
        self.whatsapp_chat_link = f"https://wa.me/{digits}?text={quote('LINK ' + new.code)}" if digits else ""
        self.code_expires = self._when(new.expires_at)
        self.waiting = True
        return ChannelsState.wait_for_link

    @rx.event
    @for_user
    async def unlink(self, user_id: int, channel: str) -> None:
        if channel not in links.CHANNELS:
            return None
        done = await asyncio.to_thread(
            links.unlink, user_id, channel, ip=self.router.session.client_ip,
            device=sessions.describe_user_agent(self.router.headers.user_agent),
        )
        name = "Telegram" if channel == "telegram" else "WhatsApp"
        self.message = f"{name} unlinked." if done else f"{name} was not linked."
        self.error = ""
        await self._refresh(user_id)
        return None

    @rx.event
    @for_user
    async def dismiss(self, user_id: int, notice_id: str) -> None:
        if notice_id.isdigit():
            await asyncio.to_thread(usage.dismiss_notice, user_id, int(notice_id))
        await self._refresh(user_id)
        return None

    @rx.event(background=True)
    async def wait_for_link(self) -> None:
        """While a code is shown, notice the link as soon as the chat uses it."""
        deadline = utcnow() + links.CODE_TTL
        async with self:
            # Any client can send this event by name: act only for the socket cookie's person.
            owner = await self.current_user_id()
            if owner is None:
                self.waiting = False
                return
        while utcnow() < deadline:
            async with self:
                if not self._owned_by(owner) or not self.waiting:
                    return
                before = (self.telegram_linked, self.whatsapp_linked)
            linked, notices = await self._fetch(owner)
            if ("telegram" in linked, "whatsapp" in linked) != before:
                async with self:  # no await between the ownership check and the writes
                    if self._owned_by(owner):
                        self._show(linked, notices)
                        self.waiting = False
                        self.message = "Linked. Your messages there now reach your agent."
                return
            await asyncio.sleep(WAIT_SECONDS)
        async with self:
            if self._owned_by(owner):
                self.waiting = False
                self.telegram_link = self.telegram_qr = self.whatsapp_code = self.whatsapp_chat_link = ""
                self.error = "The code expired. Press Connect again for a new one."
