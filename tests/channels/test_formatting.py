"""Tests for message splitting and markdown conversion."""

from __future__ import annotations

import re

import pytest

from tests.fakes.telegram_api import html_to_plain
from vopix.channels.formatting import (
    markdown_to_telegram_html,
    markdown_to_whatsapp,
    split_for_telegram,
    split_message,
    telegram_chunks,
    utf16_len,
    whatsapp_chunks,
)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --------------------------------------------------------------------------- splitting


def test_short_text_is_one_part() -> None:
    assert split_message("hello world", 100) == ["hello world"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n \n"])
def test_empty_or_blank_gives_no_parts(text: str) -> None:
    assert split_message(text, 100) == []


def test_splits_on_paragraphs_first() -> None:
    paras = [f"Paragraph {i}. " + "word " * 15 for i in range(10)]
    text = "\n\n".join(p.strip() for p in paras)
    parts = split_message(text, 200)
    assert all(len(p) <= 200 for p in parts)
    # each part is made of whole paragraphs
    for part in parts:
        for chunk in part.split("\n\n"):
            assert chunk.startswith("Paragraph ") and chunk.endswith("word")
    assert _squash("".join(parts)) == _squash(text)


def test_long_paragraph_splits_on_sentences() -> None:
    sentence = "This sentence is about forty characters. "
    text = (sentence * 50).strip()
    parts = split_message(text, 130)
    assert len(parts) > 1
    assert all(len(p) <= 130 and p.endswith(".") for p in parts)
    assert _squash("".join(parts)) == _squash(text)


def test_sentence_longer_than_limit_splits_on_whitespace() -> None:
    text = " ".join(f"w{i}" for i in range(300))
    parts = split_message(text, 50)
    assert all(0 < len(p) <= 50 for p in parts)
    assert " ".join(parts) == text


def test_unbroken_word_is_hard_cut() -> None:
    text = "x" * 1000
    parts = split_message(text, 64)
    assert all(0 < len(p) <= 64 for p in parts)
    assert "".join(parts) == text


def test_nothing_lost_on_mixed_text() -> None:
    text = (
        "# Heading\n\nIntro line one.\nIntro line two! And more?\n\n"
        + "- bullet " * 40
        + "\n\n"
        + "A" * 300
        + "\n\nThe end."
    )
    for limit in (40, 77, 128, 500):
        parts = split_message(text, limit)
        assert all(p and len(p) <= limit for p in parts)
        assert _squash("".join(parts)) == _squash(text)


def test_code_block_kept_whole_when_it_fits() -> None:
    code = "```python\n" + "\n".join(f"print({i})" for i in range(20)) + "\n```"
    text = "Intro paragraph. " * 10 + "\n\n" + code + "\n\nOutro."
    parts = split_message(text, 300)
    assert sum(code in p for p in parts) == 1
    assert all(len(p) <= 300 for p in parts)


def test_code_block_split_reopens_fence() -> None:
    lines = [f"    value_{i} = compute({i})" for i in range(200)]
    text = "Here is code:\n```python\n" + "\n".join(lines) + "\n```\nDone."
    parts = split_message(text, 500)
    assert all(len(p) <= 500 for p in parts)
    code_parts = [p for p in parts if "value_" in p]
    assert len(code_parts) > 1
    for part in code_parts:
        body = part[part.index("```python") :]
        assert body.startswith("```python\n")
        assert body.count("```") == 2
    # every code line survives, intact (indentation included)
    joined = "\n".join(parts)
    for line in lines:
        assert line in joined
    assert "Done." in parts[-1]


def test_emoji_utf16_length_for_telegram() -> None:
    text = "😀" * 3000  # 6000 UTF-16 code units, 3000 code points
    assert utf16_len(text) == 6000
    assert split_message(text, 4096) == [text]  # WhatsApp counts characters
    parts = split_for_telegram(text)
    assert len(parts) == 2
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert "".join(parts) == text


def test_hard_cut_keeps_zwj_sequences_together() -> None:
    family = "👨\u200d👩\u200d👧"
    text = family * 40
    parts = split_message(text, 17, length=utf16_len)
    assert all(utf16_len(p) <= 17 for p in parts)
    assert all(p.startswith("👨") and p.endswith("👧") for p in parts)
    assert "".join(parts) == text


def test_limit_too_small_rejected() -> None:
    with pytest.raises(ValueError):
        split_message("abc", 1)


# --------------------------------------------------------------------------- Telegram HTML


def test_script_from_model_is_escaped() -> None:
    out = markdown_to_telegram_html("Hi <script>alert('x')</script> & <b>bye</b>")
    assert "<script>" not in out and "<b>bye" not in out
    assert out == "Hi &lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;b&gt;bye&lt;/b&gt;"
    assert html_to_plain(out) == "Hi <script>alert('x')</script> & <b>bye</b>"


def test_inline_formatting() -> None:
    md = "**bold** *it* _it2_ ~~gone~~ `a<b>` snake_case_name 2 * 3 * 4"
    assert markdown_to_telegram_html(md) == (
        "<b>bold</b> <i>it</i> <i>it2</i> <s>gone</s> <code>a&lt;b&gt;</code>"
        " snake_case_name 2 * 3 * 4"
    )


def test_nesting_is_well_formed() -> None:
    out = markdown_to_telegram_html("**a *b* c** and *a **b** c* and ***both***")
    assert out == "<b>a <i>b</i> c</b> and <i>a <b>b</b> c</i> and <b><i>both</i></b>"
    html_to_plain(out)  # the fake's Telegram-like parser accepts it


def test_links_only_http() -> None:
    out = markdown_to_telegram_html(
        "[site](https://example.com/a?b=1&c=2) [evil](javascript:alert) [x](data:text/html,hi)"
    )
    assert '<a href="https://example.com/a?b=1&amp;c=2">site</a>' in out
    assert out.split("</a>", 1)[1] == " evil x"  # the other links keep their text, lose their target
    assert out.count("<a ") == 1
    assert out.endswith(" evil x")


def test_headings_lists_and_code_blocks() -> None:
    md = "# Title\n\n- one\n* two\n1. three\n\n```python\nif a < b: pass\n```"
    out = markdown_to_telegram_html(md)
    assert out == (
        "<b>Title</b>\n\n• one\n• two\n1. three\n\n"
        '<pre><code class="language-python">if a &lt; b: pass</code></pre>'
    )


def test_code_language_is_sanitized() -> None:
    out = markdown_to_telegram_html('```py"><script>\nx\n```')
    assert out == "<pre><code>x</code></pre>"


def test_telegram_chunks_are_valid_and_within_limit() -> None:
    md = ("**Bold** text with <tags> & `code` and a [link](https://a.example). " * 200).strip()
    chunks = telegram_chunks(md, 1000)
    assert len(chunks) > 1
    for chunk in chunks:
        assert utf16_len(html_to_plain(chunk)) <= 1000


# --------------------------------------------------------------------------- WhatsApp


def test_whatsapp_formatting() -> None:
    md = (
        "# Title\n**bold** *it* ~~s~~ `c` [docs](https://x.example/d)"
        " [https://y.example](https://y.example)"
    )
    assert markdown_to_whatsapp(md) == (
        "*Title*\n*bold* _it_ ~s~ ```c``` docs (https://x.example/d) https://y.example"
    )


def test_whatsapp_code_block_and_bullets() -> None:
    md = "- a\n- b\n```js\nlet x = 1 * 2;\n```"
    assert markdown_to_whatsapp(md) == "• a\n• b\n```\nlet x = 1 * 2;\n```"


def test_whatsapp_chunks_within_limit() -> None:
    md = "Some [link](https://example.com/a/very/long/path) text. " * 300
    chunks = whatsapp_chunks(md)
    assert len(chunks) > 1
    assert all(len(c) <= 4096 for c in chunks)
