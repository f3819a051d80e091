"""The printable one-page explainer (政策明白纸) of an item, as self-contained HTML: no script,
no external font or image; its QR code is an inline SVG rendered here (segno)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import segno

from doorstep_shared.clock import to_local

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
.window { border: 1px solid #000; padding: 1mm 2mm; margin: 3mm 0; }
.window p { margin: 0.5mm 0; }
.qr { float: right; width: 30mm; margin: 0 0 2mm 3mm; text-align: center; font-size: 8pt; }
.qr svg { width: 30mm; height: 30mm; display: block; }
.url { word-break: break-all; }
@media print { a { color: #000; text-decoration: none; } .qr { break-inside: avoid; } }
"""
# Large print (?print=large) for older readers: the same content, bigger type and more air.
_LARGE = """
body { font-size: 16pt; line-height: 1.8; }
h1 { font-size: 26pt; }
h2 { font-size: 18pt; border-left-width: 6px; }
td { padding: 2mm 3mm; }
td.k { width: 36mm; }
footer { font-size: 13pt; }
.qr { width: 40mm; font-size: 13pt; }
.qr svg { width: 40mm; height: 40mm; }
"""


@dataclass(frozen=True)
class ServiceWindow:
    """The service window a public sheet sends residents to (configured per deployment)."""

    name: str = ""
    address: str = ""
    phone: str = ""
    hours: str = ""

    def __bool__(self) -> bool:
        return any((self.name, self.address, self.phone, self.hours))


@dataclass(frozen=True)
class SheetPage:
    html: str
    content_security_policy: str


def style_of(large: bool) -> str:
    return _STYLE + (_LARGE if large else "")


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def content_security_policy(style: str) -> str:
    """Nothing loads or runs but this page's own stylesheet (by hash); the QR code is inline SVG."""
    return (
        f"default-src 'none'; style-src {_hash(style)}; img-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as an inline ``<svg>`` (scalable: sized by the stylesheet)."""
    return str(segno.make(url, error="m").svg_inline(omitsize=True, title="本页二维码", dark="#000"))


def local_date(instant: dt.datetime) -> str:
    day = to_local(instant).date()
    return f"{day.year}年{day.month}月{day.day}日"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _days(value: int | None) -> str:
    return "—" if value is None else f"{value}个工作日"


def render_sheet(
    item: ItemRead,
    tips: Sequence[TipRead],
    *,
    url: str,
    window: ServiceWindow | None = None,
    large: bool = False,
) -> SheetPage:
    """The sheet of ``item`` whose own address is ``url`` (its QR code points there)."""
    style = style_of(large)
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_e(item.name)} · 政策明白纸</title>",
        f"<style>{style}</style></head><body>",
        f'<div class="qr">{qr_svg(url)}扫码查看本页</div>',
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
    if window:
        parts.append('<h2>办理窗口</h2><div class="window">')
        labels = (("窗口", window.name), ("地址", window.address), ("电话", window.phone), ("办公时间", window.hours))
        parts.extend(f"<p>{k}：{_e(v)}</p>" for k, v in labels if v)
        parts.append("</div>")
    if tips:
        parts.append("<h2>实战窍门</h2><ul>")
        parts.extend(f"<li>{_e(t.body)}</li>" for t in tips[:5])
        parts.append("</ul>")
    parts.append(
        f"<footer>事项编码：{_e(item.code)} · 更新于 {local_date(item.updated_at)}"
        f' · 以窗口最新口径为准<br><span class="url">{_e(url)}</span></footer></body></html>'
    )
    return SheetPage("\n".join(parts), content_security_policy(style))
