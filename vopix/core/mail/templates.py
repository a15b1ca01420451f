"""Every mail VOPIX sends, written once: a subject and paragraphs (and at most one button),
rendered to a plain-text part and an HTML part, in the person's language where a translation
exists, English otherwise. Parameters are escaped in the HTML part."""

from __future__ import annotations

import html
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Text:
    subject: str
    paragraphs: tuple[str, ...]
    action: str = ""  # the button's label; its URL is the `action_url` parameter
    footer: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


# name -> language -> Text. Placeholders are str.format fields filled by render().
TEMPLATES: dict[str, dict[str, Text]] = {
    "test": {
        "en": Text("VOPIX test mail", ("This is a test mail from VOPIX at {public_url}.",
                                       "If you can read it, mail delivery works.")),
    },
    "password_reset": {
        "en": Text(
            "Reset your VOPIX password",
            ("Someone (hopefully you) asked to reset the password of your VOPIX account {email}.",
             "The link below works once, for 30 minutes. If you did not ask, ignore this mail: "
             "your password stays as it is."),
            action="Set a new password",
        ),
        "es": Text(
            "Restablece tu contraseña de VOPIX",
            ("Alguien (esperamos que tú) ha pedido restablecer la contraseña de tu cuenta de "
             "VOPIX {email}.",
             "El enlace funciona una vez, durante 30 minutos. Si no lo pediste, ignora este "
             "correo: tu contraseña no cambia."),
            action="Elegir una contraseña nueva",
        ),
    },
    "security_alert": {
        "en": Text(
            "VOPIX security alert: {what}",
            ("{what_sentence}", "When: {when}", "From: {device}, {ip}",
             "If this was you, there is nothing to do. If it was not, use the link below: it "
             "signs out every session of your account and lets you set a new password."),
            action="This wasn't me",
        ),
    },
    "email_confirm": {
        "en": Text(
            "Confirm your new VOPIX email address",
            ("You asked to use {new_email} for your VOPIX account instead of {old_email}.",
             "Confirm it with the link below within 24 hours; until then your account keeps "
             "its current address."),
            action="Confirm this address",
        ),
    },
    "email_changed": {
        "en": Text(
            "Your VOPIX email address was changed",
            ("The email address of your VOPIX account was changed from {old_email} to "
             "{new_email} on {when}.", "From: {device}, {ip}",
             "If you did not do this, the link below puts {old_email} back and signs out every "
             "session. It works for 7 days."),
            action="Undo this change",
        ),
    },
    "quota_warning": {
        "en": Text(
            "VOPIX: {headline}",
            ("{headline}", "Your plan ({plan}) resets at the start of next month. You can see "
             "your usage and the plans on the Billing page."),
            action="See plans and billing",
        ),
    },
    "payment_failed": {
        "en": Text(
            "VOPIX: your payment failed",
            ("The payment for your {plan} plan did not go through. Stripe will try again over the "
             "next days, and your plan stays meanwhile.",
             "To keep it, check or update your payment method on the Billing page. If Stripe cannot "
             "collect the payment, your account moves to the Free plan; nothing is deleted.{support}"),
            action="Update payment method",
        ),
    },
    "plan_unpaid": {
        "en": Text(
            "VOPIX: your {plan} plan is paused until it is paid",
            ("Stripe could not collect the payment for your {plan} plan after several tries, so "
             "your account is on the Free plan until the open invoice is paid.",
             "Pay it on the Billing page (Manage billing) and your plan comes back at once. "
             "Nothing was deleted.{support}"),
            action="Pay the open invoice",
        ),
    },
    "export_ready": {
        "en": Text(
            "Your VOPIX export is ready",
            ("The copy of your VOPIX data that you asked for on {asked} is ready ({size}).",
             "Download it from the Privacy page while logged in. The download works for you only, "
             "until {expires}; then the file is deleted (you can make a new export at any time)."),
            action="Open the Privacy page",
        ),
    },
    "plan_ended": {
        "en": Text(
            "VOPIX: your {plan} plan has ended",
            ("Your {plan} plan has ended and your account is on the Free plan now.",
             "Nothing was deleted. Where you are over a Free limit, new messages or files wait "
             "until you upgrade again or make room.{support}"),
            action="See plans and billing",
        ),
    },
    "policy_notice": {
        "en": Text(
            "VOPIX privacy policy: version {version} takes effect on {effective}",
            ("We have published version {version} of the VOPIX privacy policy. It takes effect on "
             "{effective}. {change}",
             "What changes: {summary}",
             "The whole policy is at the link below. You will also see this notice in the app "
             "until you dismiss it."),
            action="Read the policy",
        ),
    },
}

FOOTER_SERVICE = "You get this mail because it concerns the security or service of your VOPIX account."
FOOTER_OPTIONAL = "You get this mail because you chose to. Unsubscribe: {unsubscribe_url}"


def languages(name: str) -> list[str]:
    return sorted(TEMPLATES[name])


def _language(name: str, language: str) -> str:
    """'es' for 'Spanish', 'es-ES' or 'es'; English when there is no translation."""
    wanted = (language or "").strip().lower()
    by_name = {"english": "en", "spanish": "es", "español": "es"}
    code = by_name.get(wanted, wanted.split("-")[0][:2])
    return code if code in TEMPLATES[name] else "en"


def render(name: str, language: str = "en", **params: str) -> Rendered:
    """The subject and both parts of mail `name`. `action_url` is the button's target and
    `unsubscribe_url`, when given, makes it an optional mail with an unsubscribe footer."""
    t = TEMPLATES[name][_language(name, language)]
    plain = {k: str(v) for k, v in params.items()}
    subject = t.subject.format(**plain)
    paragraphs = [p.format(**plain) for p in t.paragraphs]
    action_url = plain.get("action_url", "")
    footer = (
        FOOTER_OPTIONAL.format(unsubscribe_url=plain["unsubscribe_url"])
        if plain.get("unsubscribe_url")
        else FOOTER_SERVICE
    )
    text_lines = [*paragraphs]
    if t.action and action_url:
        text_lines.append(f"{t.action}: {action_url}")
    text_lines += ["--", footer]
    text = "\n\n".join(text_lines) + "\n"

    esc = {k: html.escape(v, quote=True) for k, v in plain.items()}
    body = "".join(f"<p>{p.format(**esc)}</p>" for p in t.paragraphs)
    if t.action and action_url:
        body += (
            f'<p><a href="{esc["action_url"]}" style="display:inline-block;padding:10px 16px;'
            f'background:#3b5bdb;color:#fff;border-radius:6px;text-decoration:none">'
            f"{html.escape(t.action)}</a></p>"
            f'<p style="color:#555;font-size:13px">Or open this address: {esc["action_url"]}</p>'
        )
    footer_html = (
        html.escape(FOOTER_OPTIONAL.split("{")[0])
        + f'<a href="{esc["unsubscribe_url"]}">{esc["unsubscribe_url"]}</a>'
        if plain.get("unsubscribe_url")
        else html.escape(FOOTER_SERVICE)
    )
    page = (
        '<!DOCTYPE html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;'
        f'color:#111;max-width:560px">{body}<hr><p style="color:#666;font-size:12px">'
        f"{footer_html}</p></body></html>"
    )
    return Rendered(subject, text, page)
