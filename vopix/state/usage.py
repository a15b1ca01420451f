"""Usage page: this month against the plan's limits, and a chart of daily usage."""

from __future__ import annotations

import asyncio

import reflex as rx

from vopix.core import plans, usage
from vopix.state.session import REFRESH_SCRIPT, Reply, SessionState, for_user


def _pct(used: int, limit: int) -> int:
    return min(100, round(used * 100 / limit)) if limit else 0


class UsageState(SessionState):
    plan_name: str = ""
    messages_used: int = 0
    messages_limit: int = 0
    calls_used: int = 0
    calls_limit: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    days: list[dict[str, int | str]] = []

    @rx.var
    def messages_pct(self) -> int:
        return _pct(self.messages_used, self.messages_limit)

    @rx.var
    def calls_pct(self) -> int:
        return _pct(self.calls_used, self.calls_limit)

    # -- display only ----------------------------------------------------------------------
    @rx.var
    def messages_figure(self) -> str:
        return f"{self.messages_used:,} of {self.messages_limit:,} used ({self.messages_pct}%)"

    @rx.var
    def calls_figure(self) -> str:
        return f"{self.calls_used:,} of {self.calls_limit:,} used ({self.calls_pct}%)"

    @rx.var
    def tokens_figure(self) -> str:
        return f"Tokens this month: {self.input_tokens:,} in, {self.output_tokens:,} out."

    @rx.var
    def has_daily_usage(self) -> bool:
        return any(d.get("messages") or d.get("api_calls") for d in self.days)

    @rx.event
    @for_user
    async def load(self, user_id: int) -> Reply:
        limits = await asyncio.to_thread(plans.plan_for, user_id)
        month = await asyncio.to_thread(usage.month_usage, user_id)
        series = await asyncio.to_thread(usage.daily_usage, user_id, 30)
        self.plan_name = limits.name
        self.messages_used, self.messages_limit = month.messages, limits.messages_per_month
        self.calls_used, self.calls_limit = month.api_calls, limits.api_calls_per_month
        self.input_tokens, self.output_tokens = month.input_tokens, month.output_tokens
        self.days = [
            {
                "day": d.day.strftime("%b %d"),
                "messages": d.messages,
                "api_calls": d.api_calls,
                "tokens": d.input_tokens + d.output_tokens,
            }
            for d in series
        ]
        return rx.call_script(REFRESH_SCRIPT)
