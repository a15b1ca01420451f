"""Policy versions: the 14-day refusal, notice mails in batches through the outbox, the banner
and its dismissal (P34)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import func, select

from vopix.core.privacy import policy
from vopix.core.privacy.policy import PolicyError
from vopix.db import session_scope
from vopix.models import MailOutbox, PolicyVersion, User

pytestmark = pytest.mark.promise("P34")

# An hour ago: accounts made in a test are newer than a version published "now".
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
IN_14_DAYS = f"{NOW.date() + timedelta(days=14):%Y-%m-%d}"


def _mails() -> list[MailOutbox]:
    with session_scope() as s:
        return list(s.exec(select(MailOutbox).where(MailOutbox.kind == "policy").order_by(MailOutbox.id)).all())


def _versions() -> int:
    with session_scope() as s:
        return int(s.exec(select(func.count()).select_from(PolicyVersion)).one())


def _backdate_users() -> None:
    with session_scope() as s:
        for u in s.exec(select(User)).all():
            u.created_at = NOW - timedelta(days=30)
            s.add(u)


def _publish(version: str = "2027-01", days: int = 14, material: bool = True, **kw) -> policy.Published:
    return policy.publish(version=version, summary="We now keep access logs 20 days, not 30.",
                          effective_on=NOW.date() + timedelta(days=days), material=material,
                          by="root@ops", now=NOW, **kw)


def test_a_material_change_with_less_than_14_days_notice_is_refused_and_nothing_stored(make_user) -> None:
    make_user()
    _backdate_users()
    with pytest.raises(PolicyError, match=f"14 days' notice: the earliest effective date is {IN_14_DAYS}"):
        _publish(days=13)
    assert _versions() == 0
    assert _mails() == []


def test_past_dates_empty_summaries_and_repeated_versions_are_refused() -> None:
    with pytest.raises(PolicyError, match="in the past"):
        _publish(days=-1, material=False)
    with pytest.raises(PolicyError, match="summary"):
        policy.publish(version="x", summary=" ", effective_on=date(2027, 6, 1), by="root", now=NOW)
    _publish()
    with pytest.raises(PolicyError, match="published already"):
        _publish(days=30)
    assert _versions() == 1


def test_a_minor_change_may_take_effect_sooner() -> None:
    published = _publish(days=1, material=False)
    assert not published.material


def test_publishing_mails_every_account_once_and_records_when(make_user) -> None:
    people = [make_user()[1] for _ in range(5)]
    _backdate_users()
    published = _publish(days=14)
    assert published.notices_queued == 5
    mails = _mails()
    assert sorted(m.to_address for m in mails) == sorted(people)
    assert IN_14_DAYS in mails[0].subject
    assert "We now keep access logs 20 days" in mails[0].text_body
    assert "http://testserver/policy" in mails[0].text_body
    with session_scope() as s:
        row = s.get(PolicyVersion, published.id)
        assert row is not None and row.notices_sent_at is not None and row.notices_queued == 5
    # The job finds nothing left to do.
    assert policy.resume_notices(NOW) == 0
    assert len(_mails()) == 5


def test_notices_go_in_batches_and_a_stopped_mailing_resumes_without_repeats(make_user) -> None:
    for _ in range(5):
        make_user()
    _backdate_users()
    published = _publish(send=False)
    assert policy.send_batch(published.id, batch=2) == 2  # then the process stops
    assert len(_mails()) == 2
    with session_scope() as s:
        assert s.get(PolicyVersion, published.id).notices_sent_at is None  # type: ignore[union-attr]
    assert policy.resume_notices(NOW) == 3
    assert len({m.to_address for m in _mails()}) == 5 == len(_mails())


def test_banner_shows_until_dismissed_and_not_to_people_who_signed_up_after(make_user) -> None:
    old, _, _ = make_user()
    _backdate_users()
    published = _publish()
    newcomer, _, _ = make_user()
    assert policy.banner_for(newcomer) is None
    banner = policy.banner_for(old)
    assert banner is not None
    assert (banner.version, banner.effective_on) == ("2027-01", NOW.date() + timedelta(days=14))
    policy.dismiss(old, published.id)
    policy.dismiss(old, published.id)  # twice is fine
    assert policy.banner_for(old) is None
    assert policy.dismissed_count(published.id) == 1
    # A newer version shows again.
    policy.publish(version="2027-02", summary="Another change.", effective_on=date(2027, 3, 1),
                   by="root", now=NOW + timedelta(hours=1))
    assert policy.banner_for(old).version == "2027-02"  # type: ignore[union-attr]
