"""What a problem+json answer says to people, in Simplified Chinese (the default) or English.

The ``code`` of a problem is the stable machine key; this catalogue gives every code a title
and a detail in both languages, and every pydantic error type a field message. The language
is negotiated once per request from ``Accept-Language`` (:func:`negotiate`, set by the request
middleware into :data:`language_var`), so code that builds a problem outside a handler (the
gateway's forwarding, the idempotency middleware) renders in the caller's language too.

English details stay the specific ones the raise site wrote (they may name an item or a date);
the Chinese detail is the code's sentence in :mod:`.problem_texts`.
``tests/shared/http/test_messages.py`` scans the apps' sources for every code they can answer and fails on one missing from ``MESSAGES``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Literal

from .field_texts import FIELD_TEXTS_ZH
from .problem_texts import MESSAGES, STATUS_TITLES_ZH, Message

Language = Literal["zh", "en"]
DEFAULT_LANGUAGE: Language = "zh"
# The Content-Language each language is answered with.
CONTENT_LANGUAGE: dict[Language, str] = {"zh": "zh-CN", "en": "en"}

language_var: contextvars.ContextVar[Language] = contextvars.ContextVar("language", default=DEFAULT_LANGUAGE)


def negotiate(header: str | None) -> Language:
    """The language to answer in: English when ``en`` is preferred to ``zh`` (by q-value, then
    by order), Chinese otherwise, including for no header, ``*`` or only other languages."""
    if not header:
        return DEFAULT_LANGUAGE
    best: Language = DEFAULT_LANGUAGE
    best_q = -1.0
    for part in header.split(",")[:20]:  # a bounded header: nobody prefers a 21st language
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        if primary not in ("zh", "en"):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q and q > 0:
            best, best_q = ("en" if primary == "en" else "zh"), q
    return best


__all__ = ["MESSAGES", "STATUS_TITLES_ZH", "Message"]


def message_of(code: str, status: int) -> Message:
    """The catalogue's message for ``code``, or one made from the HTTP status."""
    found = MESSAGES.get(code)
    if found is not None:
        return found
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    zh = STATUS_TITLES_ZH.get(status, "请求未能完成")
    return Message(zh, phrase, zh + "。", phrase + ".")


def localize(body: dict[str, Any], language: Language, detail_zh: str | None = None) -> dict[str, Any]:
    """A problem body with ``title``, ``detail`` and each ``errors[].message`` in ``language``.

    English keeps the detail as written (it may be more specific than the catalogue) and the
    English pydantic messages; Chinese takes the catalogue's sentence for the code, and for an
    app's own field error (one without a pydantic ``type``) the code's sentence as its message;
    a ``detail_zh`` from the caller (one naming the fields, say) replaces the code's sentence.
    """
    message = message_of(str(body.get("code", "")), int(body.get("status", 500)))
    if language == "en":
        body["title"] = message.title_en
        if not body.get("detail"):
            body["detail"] = message.detail_en
        return body
    body["title"] = message.title_zh
    body["detail"] = detail_zh or message.detail_zh
    errors = body.get("errors")
    if isinstance(errors, list):
        body["errors"] = [_field_error_zh(error, message) for error in errors]
    return body


def _field_error_zh(error: Any, message: Message) -> Any:
    # A pydantic error (it has a ``type``) got its message from the table, ctx and all, when
    # the handler built it (``validation_errors``); an app's own field error gets its code's.
    # An error with a sub-code of its own (an eligibility rule's ``wrong_type``) gets that one's.
    if not isinstance(error, dict) or "message" not in error or error.get("type"):
        return error
    return {**error, "message": own_field_message_zh(error, message)}


def own_field_message_zh(error: Mapping[str, Any], message: Message) -> str:
    """The Chinese of an app's own field error: its English message's entry in the table, else
    its sub-code's (an eligibility rule's ``wrong_type``), else its code's sentence."""
    text = FIELD_TEXTS_ZH.get(str(error.get("message", "")))
    if text is not None:
        return text
    sub_code = error.get("code")
    if isinstance(sub_code, str) and sub_code in FIELD_MESSAGES_ZH:
        return FIELD_MESSAGES_ZH[sub_code]
    return message.detail_zh.rstrip("。")


# A field message per pydantic error type (pydantic_core's ``ErrorType``), with its ``ctx``.
FIELD_MESSAGES_ZH: dict[str, str] = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不接受此字段或参数",
    "unknown_query_parameter": "不接受此查询参数",
    "body_decode": "请求内容无法解析",
    "json_invalid": "不是有效的 JSON",
    "json_type": "须为 JSON 文本",
    "value_error": "取值无效",
    "assertion_error": "取值无效",
    "string_type": "须为文本",
    "string_unicode": "须为有效的 Unicode 文本",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符合要求",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "int_from_float": "须为整数，不能有小数",
    "float_type": "须为数字",
    "float_parsing": "须为数字",
    "finite_number": "须为有限的数字",
    "decimal_type": "须为数字",
    "decimal_parsing": "须为数字",
    "decimal_max_digits": "最多 {max_digits} 位数字",
    "decimal_max_places": "最多 {decimal_places} 位小数",
    "bool_type": "须为布尔值",
    "bool_parsing": "须为 true 或 false",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "须大于或等于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "须小于或等于 {le}",
    "multiple_of": "须为 {multiple_of} 的倍数",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "list_type": "须为列表",
    "set_type": "须为集合",
    "tuple_type": "须为元组",
    "dict_type": "须为对象",
    "model_type": "须为对象",
    "model_attributes_type": "须为对象",
    "literal_error": "须为以下之一：{expected}",
    "enum": "须为以下之一：{expected}",
    "uuid_type": "须为 UUID",
    "uuid_parsing": "不是有效的 UUID",
    "uuid_version": "UUID 版本须为 {expected_version}",
    "date_type": "须为日期",
    "date_parsing": "不是有效的日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "不是有效的日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "日期不能带时间部分",
    "date_past": "须为过去的日期",
    "date_future": "须为将来的日期",
    "datetime_type": "须为日期时间",
    "datetime_parsing": "不是有效的日期时间（ISO 8601）",
    "datetime_from_date_parsing": "不是有效的日期时间（ISO 8601）",
    "datetime_past": "须为过去的时间",
    "datetime_future": "须为将来的时间",
    "timezone_aware": "须带时区，例如 +08:00",
    "timezone_naive": "不能带时区",
    "time_type": "须为时间",
    "time_parsing": "不是有效的时间（HH:MM）",
    "time_delta_type": "须为时长",
    "time_delta_parsing": "不是有效的时长",
    "url_type": "须为网址",
    "url_parsing": "不是有效的网址",
    "url_scheme": "网址协议不符合要求",
    "url_too_long": "网址最多 {max_length} 个字符",
    "bytes_type": "须为字节串",
    "bytes_too_short": "至少 {min_length} 字节",
    "bytes_too_long": "最多 {max_length} 字节",
    "union_tag_invalid": "类型标记 {tag} 无效",
    "union_tag_not_found": "缺少类型标记字段 {discriminator}",
    "is_instance_of": "类型不符合要求",
    "none_required": "须为空",
    "frozen_field": "此字段不能修改",
    "frozen_instance": "此对象不能修改",
    "missing_argument": "缺少必填参数",
    "unexpected_keyword_argument": "不接受此参数",
    "ip_v4_address": "不是有效的 IPv4 地址",
    "ip_any_address": "不是有效的 IP 地址",
    # the sub-codes of an eligibility rule's problems (doorstep_shared.rules.validate)
    "unknown_fact": "未知的事实项",
    "unknown_operator": "未知的运算符",
    "wrong_type": "类型与事实项不符",
    "bad_shape": "规则结构有误",
    "too_large": "规则过深或过大",
}


def field_message_zh(kind: str, ctx: Mapping[str, Any]) -> str:
    """The Chinese message for a pydantic error type, its ``ctx`` values filled in."""
    template = FIELD_MESSAGES_ZH.get(kind, "取值无效")
    try:
        return template.format_map(ctx)
    except (KeyError, IndexError, ValueError):
        return template.split("{", 1)[0].rstrip("：: ") or "取值无效"
