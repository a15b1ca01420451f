"""One template per mail: a text part and an HTML part that say the same, escaped, in the
person's language where a translation exists."""

from __future__ import annotations

import string

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


def _fields(text: templates.Text) -> set[str]:
    parts = (text.subject, *text.paragraphs, *text.footer)
    return {f for part in parts for _, f, _, _ in string.Formatter().parse(part) if f}


def test_every_template_renders_in_every_language_it_has() -> None:
    # Each template is filled with the fields it names itself, so a template added later is
    # checked too; the action URL is always given (the button).
    for name, by_language in templates.TEMPLATES.items():
        assert "en" in by_language, name
        fields = set().union(*(_fields(t) for t in by_language.values()))
        params = {k: "x" for k in fields | {"action_url"}}
        for language in by_language:
            out = templates.render(name, language, **params)
            assert out.subject and out.text.strip() and out.html.startswith("<!DOCTYPE html>")
