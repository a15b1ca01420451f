"""Correction (P31): every field a person's account and agent hold about them can be changed by
the person. A column added later to either table fails here until the person can change it or
it is named below as the platform's own, with why."""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.mail.helpers import mailed_token
from vopix.core import accounts, email_change
from vopix.core.agent import profile
from vopix.core.kinds import MailKind
from vopix.core.mail import preferences
from vopix.db import session_scope
from vopix.models import AgentProfile, User

# Columns that are not the person's information to correct, and why.
PLATFORM_COLUMNS = {
    ("user", "id"): "the account's number",
    ("user", "created_at"): "when the account was made (a fact, shown in the export)",
    ("user", "updated_at"): "bookkeeping",
    ("user", "age_confirmed_at"): "when the person confirmed their age at sign-up (a record)",
    ("user", "subscription_status"): "Stripe's status, changed on /billing through Stripe",
    ("user", "plan_id"): "the plan billing gives, changed on /billing through Stripe",
    ("user", "is_operator"): "an operator's flag, not set by anyone in the app",
    ("user", "suspended_at"): "staff's decision, with a reason the person sees",
    ("user", "suspended_reason"): "staff's decision, with a reason the person sees",
    ("user", "deletion_requested_at"): "set by the person's own deletion request on /privacy",
    ("user", "purge_after"): "set by the person's own deletion request on /privacy",
    ("agent_profile", "user_id"): "whose agent it is",
    ("agent_profile", "updated_at"): "bookkeeping",
}


def _row(model: type, user_id: int) -> dict[str, Any]:
    with session_scope() as s:
        row = s.get(model, user_id)
        assert row is not None
        return {c.name: getattr(row, c.name) for c in model.__table__.columns}  # type: ignore[attr-defined]


@pytest.mark.promise("P31")
def test_every_field_of_the_account_and_the_agent_can_be_corrected_by_the_person(make_user) -> None:
    user_id, _, password = make_user()
    before = {"user": _row(User, user_id), "agent_profile": _row(AgentProfile, user_id)}

    # What the Account, Settings and notification controls do.
    accounts.change_email(user_id, password, "corrected@example.com")
    email_change.confirm(mailed_token("corrected@example.com", "/confirm-email"))
    accounts.change_password(user_id, password, "a-corrected-pass-77")
    preferences.set_choice(user_id, MailKind.QUOTA, not before["user"]["quota_mail_opt_in"])
    preferences.set_choice(user_id, MailKind.PRODUCT_NEWS, not before["user"]["marketing_opt_in"])
    profile.update_persona(user_id, name="Nova", personality="Warm and brief.", language="Português",
                           timezone="America/Sao_Paulo")
    profile.update_provider(user_id, kind="openai", model="gpt-corrected", base_url="https://llm.example.com/v1",
                            api_key="sk-corrected-0123456789")

    after = {"user": _row(User, user_id), "agent_profile": _row(AgentProfile, user_id)}
    unchanged = sorted(
        f"{table}.{column}"
        for table, row in before.items() for column, value in row.items()
        if (table, column) not in PLATFORM_COLUMNS and after[table][column] == value
    )
    assert unchanged == [], f"fields the person cannot correct: {unchanged}"
    columns = {(t, c) for t, row in before.items() for c in row}
    assert set(PLATFORM_COLUMNS) <= columns  # no stale entry
