"""Tests for the WhatsApp Cloud API protocol helpers, against the loopback fake."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.fakes.whatsapp_api import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_PHONE_NUMBER_ID,
    FakeWhatsAppAPI,
    make_audio_webhook,
    make_image_webhook,
    make_status_webhook,
    make_text_webhook,
    sign,
    signed_delivery,
)
from vopix.channels.whatsapp_protocol import (
    REENGAGEMENT_ERROR_CODE,
    MalformedPayload,
    build_template_message,
    build_text_message,
    parse_graph_error,
    parse_send_response,
    parse_webhook,
    verify_challenge,
    verify_signature,
)

SECRET = "app-secret-for-tests"
USER = "15551234567"


# --------------------------------------------------------------------------- signature


def test_signature_valid() -> None:
    body, headers = signed_delivery(make_text_webhook("wamid.A", USER, "hi"), SECRET)
    assert verify_signature(body, headers["X-Hub-Signature-256"], SECRET)
    upper_hex = headers["X-Hub-Signature-256"].upper().replace("SHA256", "sha256")
    assert verify_signature(body, upper_hex, SECRET)


def test_signature_forged_or_tampered() -> None:
    body, headers = signed_delivery(make_text_webhook("wamid.A", USER, "hi"), SECRET)
    assert not verify_signature(body, sign(body, "other-secret"), SECRET)
    assert not verify_signature(body.replace(b"hi", b"yo"), headers["X-Hub-Signature-256"], SECRET)


@pytest.mark.parametrize(
    "header",
    [None, "", "sha256=", "sha1=" + "0" * 40, "sha256=" + "z" * 64, "sha256=" + "0" * 63,
     "0" * 64, "sha256=" + "0" * 64 + "00", "sha256=é" + "0" * 63],
)
def test_signature_missing_or_malformed(header: str | None) -> None:
    assert verify_signature(b"{}", header, SECRET) is False


def test_signature_empty_secret_never_verifies() -> None:
    assert not verify_signature(b"{}", sign(b"{}", ""), "")


# --------------------------------------------------------------------------- challenge


def test_challenge_ok() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    assert verify_challenge(params, "tok") == "1158201444"


@pytest.mark.parametrize(
    ("params", "token"),
    [
        ({"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}, "tok"),
        ({"hub.mode": "unsubscribe", "hub.verify_token": "tok", "hub.challenge": "1"}, "tok"),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, "tok"),
        ({"hub.mode": "subscribe", "hub.verify_token": "tok"}, "tok"),
        ({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}, ""),
        ({"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "<b>x</b>"}, "tok"),
        ({"hub.mode": "subscribe", "hub.verify_token": "tök", "hub.challenge": "1"}, "tok"),
    ],
)
def test_challenge_rejected(params: dict[str, str], token: str) -> None:
    assert verify_challenge(params, token) is None


# --------------------------------------------------------------------------- parsing


def test_parse_text() -> None:
    when = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    batch = parse_webhook(make_text_webhook("wamid.T1", USER, "hello", "555", timestamp=when))
    assert batch.statuses == []
    (msg,) = batch.messages
    assert (msg.id, msg.from_, msg.type, msg.text) == ("wamid.T1", USER, "text", "hello")
    assert msg.timestamp == when and msg.timestamp.tzinfo is not None
    assert msg.phone_number_id == "555"
    assert msg.profile_name == "Ada Lovelace"
    assert msg.media_id is None


def test_parse_image_and_voice() -> None:
    batch = parse_webhook(make_image_webhook("wamid.I", USER, "9988", caption="look"))
    (img,) = batch.messages
    assert (img.type, img.media_id, img.mime_type) == ("image", "9988", "image/jpeg")
    assert img.text == "look"
    (voice,) = parse_webhook(make_audio_webhook("wamid.V", USER, "7766")).messages
    assert voice.type == "audio" and voice.voice and voice.media_id == "7766"


def test_parse_status_delivered_and_failed() -> None:
    (ok,) = parse_webhook(make_status_webhook("wamid.S", USER, "delivered")).statuses
    assert (ok.id, ok.status, ok.recipient_id) == ("wamid.S", "delivered", USER)
    assert ok.error_title is None and ok.error_code is None
    (bad,) = parse_webhook(make_status_webhook("wamid.F", USER, "failed")).statuses
    assert bad.status == "failed"
    assert bad.error_code == REENGAGEMENT_ERROR_CODE
    assert bad.error_title == "Re-engagement message"


def test_non_message_fields_are_ignored() -> None:
    body = make_text_webhook("wamid.A", USER, "hi")
    body["entry"][0]["changes"][0]["field"] = "account_update"
    assert parse_webhook(body).messages == []


def _mutations() -> list[tuple[str, Any]]:
    def change(body: dict[str, Any]) -> dict[str, Any]:
        value: dict[str, Any] = body["entry"][0]["changes"][0]["value"]
        return value

    cases: list[tuple[str, Any]] = [("not a dict", [1, 2]), ("string", "x"), ("none", None)]
    base = make_text_webhook("wamid.A", USER, "hi")

    def mutated(fn: Any) -> dict[str, Any]:
        body = copy.deepcopy(base)
        fn(body)
        return body

    cases += [
        ("wrong object", mutated(lambda b: b.update(object="page"))),
        ("entry not list", mutated(lambda b: b.update(entry={"a": 1}))),
        ("missing entry", mutated(lambda b: b.pop("entry"))),
        ("changes not list", mutated(lambda b: b["entry"][0].update(changes="x"))),
        ("value not dict", mutated(lambda b: b["entry"][0]["changes"][0].update(value=3))),
        ("messages not list", mutated(lambda b: change(b).update(messages={}))),
        ("message not dict", mutated(lambda b: change(b).update(messages=["x"]))),
        ("missing id", mutated(lambda b: change(b)["messages"][0].pop("id"))),
        ("from int", mutated(lambda b: change(b)["messages"][0].update({"from": 1}))),
        ("bad timestamp", mutated(lambda b: change(b)["messages"][0].update(timestamp="soon"))),
        ("text not dict", mutated(lambda b: change(b)["messages"][0].update(text="hi"))),
        ("no metadata", mutated(lambda b: change(b).pop("metadata"))),
    ]
    return cases


@pytest.mark.parametrize(("name", "body"), _mutations(), ids=[c[0] for c in _mutations()])
def test_malformed_payloads(name: str, body: Any) -> None:
    with pytest.raises(MalformedPayload) as info:
        parse_webhook(body)
    assert "hi" not in str(info.value) and USER not in str(info.value)
    assert isinstance(info.value, ValueError)


# --------------------------------------------------------------------------- sending


def test_build_bodies() -> None:
    assert build_text_message(USER, "hi") == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": USER,
        "type": "text", "text": {"preview_url": False, "body": "hi"},
    }
    template = build_template_message(USER, "welcome_back", "en_US")
    assert template["type"] == "template"
    assert template["template"] == {"name": "welcome_back", "language": {"code": "en_US"}}
    with pytest.raises(ValueError):
        build_text_message(USER, "")
    with pytest.raises(ValueError):
        build_text_message("not-a-number", "hi")
    with pytest.raises(ValueError):
        build_text_message(USER, "x" * 4097)


def _post(
    fake: FakeWhatsAppAPI, body: dict[str, Any], token: str = DEFAULT_ACCESS_TOKEN
) -> httpx.Response:
    return httpx.post(
        f"{fake.url}/v21.0/{DEFAULT_PHONE_NUMBER_ID}/messages",
        headers={"Authorization": f"Bearer {token}"},
        json=body,
    )


def test_send_against_fake(whatsapp_api: FakeWhatsAppAPI) -> None:
    resp = _post(whatsapp_api, build_text_message(USER, "hello there"))
    assert resp.status_code == 200
    data = resp.json()
    wamid = parse_send_response(data)
    assert wamid.startswith("wamid.")
    assert data["contacts"] == [{"input": USER, "wa_id": USER}]
    assert whatsapp_api.texts_to(USER) == ["hello there"]
    assert _post(whatsapp_api, build_template_message(USER, "hello", "en")).status_code == 200


def test_fake_rejects_bad_token_and_body(whatsapp_api: FakeWhatsAppAPI) -> None:
    resp = _post(whatsapp_api, build_text_message(USER, "x"), token="wrong")
    assert resp.status_code == 401
    assert parse_graph_error(resp.json()).code == 190  # type: ignore[union-attr]
    resp = _post(whatsapp_api, {"messaging_product": "whatsapp", "to": USER, "type": "text"})
    assert resp.status_code == 400
    assert whatsapp_api.sent == []


def test_fake_failures(whatsapp_api: FakeWhatsAppAPI) -> None:
    whatsapp_api.fail_next_rate_limited()
    assert _post(whatsapp_api, build_text_message(USER, "a")).status_code == 429
    whatsapp_api.fail_next_outside_window()
    resp = _post(whatsapp_api, build_text_message(USER, "b"))
    error = parse_graph_error(resp.json())
    assert resp.status_code == 400 and error is not None and error.outside_window
    assert _post(whatsapp_api, build_text_message(USER, "c")).status_code == 200

    whatsapp_api.close_window(USER)
    assert _post(whatsapp_api, build_text_message(USER, "d")).status_code == 400
    assert _post(whatsapp_api, build_template_message(USER, "t", "en")).status_code == 200
    assert whatsapp_api.texts_to(USER) == ["c"]
    assert len(whatsapp_api.calls) == 5


def test_signed_delivery_round_trip() -> None:
    body, headers = signed_delivery(make_text_webhook("wamid.R", USER, "round"), SECRET)
    assert verify_signature(body, headers["X-Hub-Signature-256"], SECRET)
    assert parse_webhook(json.loads(body)).messages[0].text == "round"
