"""Phone and ID numbers in free text, in every common spelling, masked by the one function (#17 §5)."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorstep_shared.http.observability import RedactingFormatter, RedactingJsonFormatter
from doorstep_shared.pii import redact_json, redact_text

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("电话13812345678", "电话138****5678"),
        ("电话 138-1234-5678 谢谢", "电话 138****5678 谢谢"),
        ("138 1234 5678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("+86-13812345678", "138****5678"),
        ("(+86)13812345678", "138****5678"),
        ("008613812345678", "138****5678"),
        ("１３８１２３４５６７８号", "138****5678号"),
        ("＋８６ １３８－１２３４－５６７８", "138****5678"),
        ("身份证340523199001011234", "身份证340523********1234"),
        ("身份证34052319900101123x", "身份证340523********123X"),
        ("340523 19900101 1234", "340523********1234"),
        ("老证340523900101123。", "老证340523*****1123。"),
    ],
)
def test_every_common_spelling_is_masked(typed: str, shown: str) -> None:
    assert redact_text(typed) == shown
    assert redact_text(shown) == shown  # idempotent


@pytest.mark.parametrize("text", ["3号楼2单元501", "12345热线", "0551-12345678", "2026-12-03 09:30", "补贴1380元"])
def test_what_is_not_a_personal_number_is_left_alone(text: str) -> None:
    assert redact_text(text) == text


mobiles = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text("0123456789", min_size=9, max_size=9),
)
ids = st.one_of(
    st.text("0123456789", min_size=17, max_size=17).map(lambda d: d + "X"),
    st.text("0123456789", min_size=18, max_size=18),
    st.text("0123456789", min_size=15, max_size=15),
)
words = st.text(st.characters(categories=["Lo", "Zs", "Po"]), max_size=8)


def spell(number: str, gap: str, prefix: str, full_width: bool) -> str:
    groups = [number[:3], number[3:7], number[7:]] if len(number) == 11 else [number[:6], number[6:14], number[14:]]
    text = prefix + gap.join(groups)
    return text.translate(FULL_WIDTH) if full_width else text


@settings(max_examples=200, deadline=None)
@given(
    number=st.one_of(mobiles, ids),
    gap=st.sampled_from(["", " ", "-", "－", "\u3000"]),
    prefix=st.sampled_from(["", "+86 ", "+86-", "0086"]),
    full_width=st.booleans(),
    before=words,
    after=words,
)
def test_no_spelling_of_a_number_survives(
    number: str, gap: str, prefix: str, full_width: bool, before: str, after: str
) -> None:
    prefix = prefix if len(number) == 11 else ""
    shown = redact_text(before + spell(number, gap, prefix, full_width) + after)
    digits = "".join(c for c in shown.translate(str.maketrans("０１２３４５６７８９", "0123456789")) if c.isdigit())
    assert number.upper() not in digits and "*" in shown, shown
    assert shown.startswith(before) and shown.endswith(after)


def test_webhook_payloads_and_logs_are_masked_too() -> None:
    assert redact_json({"reason": "联系 138-1234-5678", "ids": ["340523199001011234"], "n": 1}) == {
        "reason": "联系 138****5678",
        "ids": ["340523********1234"],
        "n": 1,
    }
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "ticket %s", ("+86 138 1234 5678",), None)
    record.request_id = None
    for formatter in (RedactingFormatter("%(message)s"), RedactingJsonFormatter("%(message)s")):
        line = formatter.format(record)
        assert "1234" not in line.replace("5678", ""), line
    assert json.loads(RedactingJsonFormatter("%(message)s").format(record))["message"] == "ticket 138****5678"
