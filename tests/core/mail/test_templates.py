"""One template per mail: a text part and an HTML part that say the same, escaped, in the
person's language where a translation exists."""

from __future__ import annotations

import pytest

from vopix.core.mail import templates


def test_both_parts_carry_the_text_and_the_link_and_html_is_escaped() -> None:
    out = templates.render(
        "password_reset", "English", email="<script>alert(1)</script>@example.com",
        action_url="http://testserver/reset?token=a&b",
    )
    assert out.subject == "Reset your VOPIX password"
    assert "<script>alert(1)</script>@example.com" in out.text  # plain text stays as typed
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html
    assert "Set a new password: http://testserver/reset?token=a&b" in out.text
    assert 'href="http://testserver/reset?token=a&amp;b"' in out.html
    assert templates.FOOTER_SERVICE in out.text and "Unsubscribe" not in out.text


@pytest.mark.parametrize(("language", "subject"), [
    ("Spanish", "Restablece tu contraseña de VOPIX"),
    ("es-MX", "Restablece tu contraseña de VOPIX"),
    ("Klingon", "Reset your VOPIX password"),  # no translation: English
    ("", "Reset your VOPIX password"),
])
def test_the_persons_language_where_a_translation_exists(language: str, subject: str) -> None:
    assert templates.render("password_reset", language, email="a@b.co", action_url="u").subject == subject


def test_every_template_renders_in_every_language_it_has() -> None:
    params = {k: "x" for k in ("email", "what", "what_sentence", "when", "device", "ip", "new_email",
                                "old_email", "headline", "plan", "public_url", "action_url")}
    for name, by_language in templates.TEMPLATES.items():
        assert "en" in by_language, name
        for language in by_language:
            out = templates.render(name, language, **params)
            assert out.subject and out.text.strip() and out.html.startswith("<!DOCTYPE html>")
