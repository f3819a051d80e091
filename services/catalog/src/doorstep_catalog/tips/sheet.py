"""The printable one-page explainer (政策明白纸) of an item, as self-contained HTML."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..items.schemas import ItemRead
from .schemas import TipRead

_FORMS = {"original": "原件", "copy": "复印件", "electronic": "电子版"}
_CHANNELS = {"window": "窗口办理", "doorstep": "上门代办", "online": "网上办理"}

_STYLE = """
@page { size: A4; margin: 14mm; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif;
       font-size: 11pt; line-height: 1.5; color: #000; max-width: 180mm; margin: 0 auto; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 2mm; }
.sub { text-align: center; color: #444; margin: 0 0 4mm; }
h2 { font-size: 12pt; border-left: 4px solid #000; padding-left: 2mm; margin: 4mm 0 1mm; }
ul, ol { margin: 0; padding-left: 6mm; }
ul.check { list-style: none; padding-left: 1mm; }
ul.check li::before { content: "☐ "; }
table { border-collapse: collapse; width: 100%; }
td { border: 1px solid #999; padding: 1mm 2mm; vertical-align: top; }
td.k { width: 28mm; background: #f2f2f2; }
footer { margin-top: 4mm; font-size: 9pt; color: #444; }
@media print { a { color: #000; text-decoration: none; } }
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _days(value: int | None) -> str:
    return "—" if value is None else f"{value}个工作日"


def render_sheet(item: ItemRead, tips: Sequence[TipRead]) -> str:
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{_e(item.name)} · 政策明白纸</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_e(item.name)}</h1>",
        f'<p class="sub">政策明白纸 · {_e(item.category_name)} · 第{item.published_version}版</p>',
    ]
    if item.status != "published":
        parts.append(
            f'<p class="sub"><strong>状态：{_e({"draft": "草稿", "retired": "已停办"}[item.status])}</strong></p>'
        )
    if item.summary:
        parts.append(f"<p>{_e(item.summary)}</p>")
    parts.append("<h2>服务对象与办理条件</h2>")
    if item.audience:
        parts.append(f"<p>服务对象：{_e(item.audience)}</p>")
    parts.append(f"<p>{_e(item.conditions or '详见政策依据')}</p>")
    if item.policy_basis:
        parts.append("<h2>政策依据</h2><ul>")
        for p in item.policy_basis:
            extra = "，".join(_e(x) for x in (p.issuer, p.number) if x)
            parts.append(f"<li>《{_e(p.title)}》{'（' + extra + '）' if extra else ''}</li>")
        parts.append("</ul>")
    parts.append('<h2>所需材料（请逐项勾选）</h2><ul class="check">')
    for m in item.materials:
        note = f"；{_e(m.notes)}" if m.notes else ""
        parts.append(f"<li>{_e(m.name)}（{_FORMS[m.form]}{m.count}份{note}）</li>")
    if not item.materials:
        parts.append("<li>无需提交材料</li>")
    parts.append("</ul>")
    if item.steps:
        parts.append("<h2>办理流程</h2><ol>")
        for s in item.steps:
            detail = f"：{_e(s.detail)}" if s.detail else ""
            parts.append(f"<li>{_e(s.title)}{detail}</li>")
        parts.append("</ol>")
    fee = "免费" if item.fee.free else f"{item.fee.amount_yuan or 0:g}元"
    if item.fee.basis:
        fee += f"（{_e(item.fee.basis)}）"
    channels = "、".join(_CHANNELS.get(c, c) for c in item.channels)
    parts.append("<h2>办理须知</h2><table>")
    rows = [
        ("法定时限", _days(item.statutory_days)),
        ("承诺时限", _days(item.promised_days)),
        ("收费", fee),
        ("决定部门", _e(item.department or "—")),
        ("咨询方式", _e(item.contact or "—")),
        ("办理渠道", _e(channels or "—")),
        ("跑动次数", f"最多跑{item.trips}次" if item.trips else "零跑动"),
        ("上门代办", "可以" if item.proxy_eligible else "不适用"),
    ]
    parts.extend(f'<tr><td class="k">{k}</td><td>{v}</td></tr>' for k, v in rows)
    parts.append("</table>")
    if tips:
        parts.append("<h2>实战窍门</h2><ul>")
        parts.extend(f"<li>{_e(t.body)}</li>" for t in tips[:5])
        parts.append("</ul>")
    parts.append(
        f"<footer>事项编码：{_e(item.code)} · 更新于 {_e(item.updated_at.date().isoformat())}"
        " · 以窗口最新口径为准</footer></body></html>"
    )
    return "\n".join(parts)
