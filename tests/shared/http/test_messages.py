"""The message catalogue: every code an app can answer has a Chinese and an English message."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from doorstep_shared.http.errors import Conflict, Invalid, NotFound
from doorstep_shared.http.field_texts import FIELD_TEXTS_ZH
from doorstep_shared.http.messages import (
    FIELD_MESSAGES_ZH,
    MESSAGES,
    STATUS_TITLES_ZH,
    field_message_zh,
    language_var,
    negotiate,
)

ROOT = Path(__file__).resolve().parents[3]
SOURCES = ["shared/src", "gateway/src", "services/catalog/src", "services/proxy/src", "services/stations/src"]
# Raised by name with the code as the second argument (webhooks' URL checks).
CODE_AS_SECOND_ARGUMENT = {"problem_response", "UnsafeUrl"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def codes_in_sources() -> dict[str, str]:
    """Every problem code the apps can raise or answer, found in their source: ``code="…"``
    keywords, ``problem_response(status, "…")``, and ``code = "…"`` on error classes."""
    found: dict[str, str] = {}
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    for keyword in node.keywords:
                        if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                            found.setdefault(str(keyword.value.value), where)
                    func = node.func
                    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                    if name in CODE_AS_SECOND_ARGUMENT and len(node.args) >= 2:
                        second = node.args[1]
                        if isinstance(second, ast.Constant) and isinstance(second.value, str):
                            found.setdefault(second.value, where)
                elif isinstance(node, ast.ClassDef):
                    for statement in node.body:
                        if (
                            isinstance(statement, ast.Assign)
                            and [getattr(t, "id", None) for t in statement.targets] == ["code"]
                            and isinstance(statement.value, ast.Constant)
                        ):
                            found.setdefault(str(statement.value.value), where)
    return found


def test_the_scan_finds_codes_of_every_app() -> None:
    found = codes_in_sources()
    # A scan that silently finds nothing would make the next test pass vacuously.
    assert len(found) > 120
    for code in ("session_full", "case_not_found", "duplicate_code", "invalid_grant", "url_https_required"):
        assert code in found


def test_every_code_the_apps_can_answer_has_both_languages() -> None:
    missing = {code: where for code, where in codes_in_sources().items() if code not in MESSAGES}
    assert missing == {}, "add these codes to doorstep_shared.http.messages.MESSAGES"
    for code, message in MESSAGES.items():
        assert all(message), code
        assert CJK.search(message.title_zh) and CJK.search(message.detail_zh), code
        assert not CJK.search(message.title_en + message.detail_en), code
        assert message.title_zh != message.title_en and message.detail_zh != message.detail_en, code


def test_the_starlette_statuses_have_a_chinese_title() -> None:
    for status in (400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 503):
        assert CJK.search(STATUS_TITLES_ZH[status])


@pytest.mark.parametrize(
    ("kind", "ctx", "expected"),
    [
        ("missing", {}, "缺少必填字段"),
        ("string_too_long", {"max_length": 40}, "最多 40 个字符"),
        ("greater_than_equal", {"ge": 1}, "须大于或等于 1"),
        ("literal_error", {"expected": "'window' or 'doorstep'"}, "须为以下之一：'window' or 'doorstep'"),
        ("string_too_long", {}, "最多"),  # a ctx value missing: the sentence without the number
        ("some_future_type", {}, "取值无效"),
    ],
)
def test_field_messages_fill_in_the_context(kind: str, ctx: dict[str, object], expected: str) -> None:
    assert field_message_zh(kind, ctx) == expected


def test_every_field_message_is_chinese_and_formats_with_its_context() -> None:
    for kind, template in FIELD_MESSAGES_ZH.items():
        names = re.findall(r"{(\w+)}", template)
        text = field_message_zh(kind, dict.fromkeys(names, 7))
        assert CJK.search(text) and "{" not in text, kind


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh"),
        ("", "zh"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en;q=0.5, zh;q=0.8", "zh"),
        ("fr, en;q=0.3", "en"),
        ("fr", "zh"),
        ("*", "zh"),
        ("en;q=0, zh-TW", "zh"),
        ("en;q=bogus", "zh"),
    ],
)
def test_accept_language_prefers_chinese_unless_english_is_preferred(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_an_error_renders_in_the_language_of_the_request() -> None:
    error = Conflict("The session is full.", code="session_full")
    assert error.to_problem(language="en")["detail"] == "The session is full."
    zh = error.to_problem(language="zh")
    assert (zh["title"], zh["detail"], zh["code"]) == ("场次已满", "该场次已无空位。", "session_full")
    token = language_var.set("en")
    try:
        assert NotFound("No item 'x'.").to_problem()["title"] == "Not found"
    finally:
        language_var.reset(token)


def field_messages_in_sources() -> dict[str, str]:
    """Every message the apps write as a literal in ``Invalid.field(field, message)``."""
    found: dict[str, str] = {}
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "field"
                    and getattr(node.func.value, "id", None) == "Invalid"
                    and len(node.args) >= 2
                    and isinstance(node.args[1], ast.Constant)
                ):
                    found.setdefault(str(node.args[1].value), str(path.relative_to(ROOT)))
    return found


def test_every_literal_field_message_of_the_apps_has_its_chinese() -> None:
    found = field_messages_in_sources()
    assert len(found) > 60
    missing = {text: where for text, where in found.items() if text not in FIELD_TEXTS_ZH}
    assert missing == {}, "add these to doorstep_shared.http.field_texts.FIELD_TEXTS_ZH"
    for english, chinese in FIELD_TEXTS_ZH.items():
        assert CJK.search(chinese) and not CJK.search(english), english


def test_an_apps_own_field_error_is_chinese_by_its_message_else_by_its_code() -> None:
    error = Invalid.field("body.closes", "must be after opens", code="hours_end_before_start")
    zh = error.to_problem(language="zh")
    assert zh["errors"] == [{"field": "body.closes", "message": "须晚于开始时间"}]
    assert zh["detail"] == "body.closes：须晚于开始时间"
    en = error.to_problem(language="en")
    assert en["errors"][0]["message"] == "must be after opens" and en["detail"] == "body.closes: must be after opens"
    built = Invalid.field("body.seats", "at most 3 seats per resident", code="over_resident_limit")
    assert built.to_problem(language="zh")["errors"][0]["message"] == "超出每人可预约的名额"
