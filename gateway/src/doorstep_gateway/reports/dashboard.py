"""The county dashboard: a static page (no build step, no external JS/CSS) and the server-rendered
panel it loads — figures as cards, inline-SVG bar charts and a table, every text escaped.

The page holds no figures. It signs in (or takes a pasted token) and fetches the panel from
``/api/v1/reports/summary?format=html`` with a bearer header; the token stays in a JS variable
(never in a URL or storage). A Content-Security-Policy with hashes allows only its own script
and style.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from functools import lru_cache
from html import escape
from typing import Any

from doorstep_shared.clock import to_local

from .schemas import ReportSummary

LABELS = {
    "residents_received_at_window": "窗口接待群众",
    "items_accepted": "受理事项",
    "items_accepted_at_window": "窗口受理事项",
    "consultations": "咨询与诉求",
    "doorstep_services": "上门代办服务",
    "cases_completed": "办结件数",
    "residents_served": "办件服务居民",
    "people_served_by_stations": "驿站服务人次",
}
CHARTS = [
    "consultations",
    "residents_received_at_window",
    "items_accepted",
    "doorstep_services",
    "cases_completed",
    "people_served_by_stations",
]
SERVICE_NAMES = {"catalog": "办事指南（catalog）", "proxy": "代办服务（proxy）", "stations": "党群驿站（stations）"}
BAR_COLOURS = ["#b71c1c", "#c62828", "#d84315", "#ef6c00", "#2e7d32", "#1565c0"]


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def beijing_time(instant: dt.datetime, *, seconds: bool = False) -> str:
    """An instant as the people reading the dashboard read it: Beijing time, labelled."""
    return f"{to_local(instant):%Y-%m-%d %H:%M{':%S' if seconds else ''}}（北京时间）"


def _number(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def bar_chart(title: str, rows: list[tuple[str, int | None]], colour: str) -> str:
    """A horizontal bar chart as inline SVG: one bar per community, the value at its end."""
    known = [(name, v) for name, v in rows if v is not None]
    if not known:
        return f'<figure class="chart"><figcaption>{_e(title)}</figcaption><p class="muted">暂无数据</p></figure>'
    top = max(v for _, v in known) or 1
    row_h, label_w, bar_w = 22, 96, 240
    height = row_h * len(known) + 8
    parts = [
        f'<svg role="img" aria-label="{_e(title)}" viewBox="0 0 {label_w + bar_w + 70} {height}" '
        f'width="{label_w + bar_w + 70}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (name, value) in enumerate(known):
        y = 4 + i * row_h
        width = round(bar_w * value / top) if value else 0
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12" fill="#333">{_e(name)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{width}" height="{row_h - 8}" fill="{colour}">'
            f"<title>{_e(name)}：{_e(_number(value))}</title></rect>"
            f'<text x="{label_w + width + 6}" y="{y + 15}" font-size="12" fill="#333">{_e(_number(value))}</text>'
        )
    parts.append("</svg>")
    return f'<figure class="chart"><figcaption>{_e(title)}</figcaption>{"".join(parts)}</figure>'


def panel(summary: ReportSummary, scope: str) -> str:
    """The dashboard's content for one summary (an HTML fragment; everything escaped); ``scope``
    names the community or county it covers."""
    out = [
        f"<h2>{_e(scope)} · {_e(summary.period_from.isoformat())} 至 {_e(summary.period_to.isoformat())}</h2>",
    ]
    if summary.unavailable:
        names = "、".join(SERVICE_NAMES.get(s, s) for s in summary.unavailable)
        out.append(f'<p class="warn">以下服务暂时没有应答，相关数字暂缺：{_e(names)}</p>')
    if summary.degraded:
        out.append('<ul class="warn" id="services-down">')
        for d in summary.degraded:
            state = "降级运行" if d.state == "degraded" else "无法访问"
            copy = f"，使用 {beijing_time(d.stale_since)} 的副本" if d.stale_since else ""
            what = f"（{d.detail}）" if d.detail else ""
            out.append(f"<li>{_e(SERVICE_NAMES.get(d.service, d.service))}：{_e(state)}{_e(what)}{_e(copy)}</li>")
        out.append("</ul>")
    out.append('<div class="cards">')
    for name, label in LABELS.items():
        out.append(
            f'<div class="card"><div class="value">{_e(_number(getattr(summary.county, name)))}</div>'
            f'<div class="label">{_e(label)}</div></div>'
        )
    if summary.handbook is not None:
        out.append(
            f'<div class="card"><div class="value">{_e(_number(summary.handbook.items))}</div>'
            f'<div class="label">办事指南事项（可上门代办 {_e(_number(summary.handbook.proxy_eligible))} 项）</div></div>'
        )
    out.append("</div>")
    if len(summary.communities) > 1:
        out.append('<div class="charts">')
        for n, name in enumerate(CHARTS):
            rows = [(c.name, getattr(c, name)) for c in summary.communities]
            out.append(bar_chart(LABELS[name], rows, BAR_COLOURS[n % len(BAR_COLOURS)]))
        out.append("</div>")
    head = "".join(f"<th>{_e(label)}</th>" for label in LABELS.values())
    out.append(f"<table><thead><tr><th>社区</th>{head}</tr></thead><tbody>")
    for c in summary.communities:
        cells = "".join(f'<td class="num">{_e(_number(getattr(c, n)))}</td>' for n in LABELS)
        out.append(f"<tr><th>{_e(c.name)}</th>{cells}</tr>")
    total = "".join(f'<td class="num">{_e(_number(getattr(summary.county, n)))}</td>' for n in LABELS)
    out.append(f'<tr class="total"><th>合计</th>{total}</tr></tbody></table>')
    out.append(f'<p class="muted" id="generated-at">生成于 {_e(beijing_time(summary.generated_at, seconds=True))}</p>')
    return "".join(out)


STYLE = """
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#b71c1c;color:#fff;padding:12px 20px}header h1{margin:0;font-size:20px}
main{padding:16px 20px}form{display:inline-flex;gap:8px;align-items:center;margin:0 16px 8px 0;flex-wrap:wrap}
input,select,button{font:inherit;padding:4px 8px}button{cursor:pointer}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:130px}
.card .value{font-size:26px;font-weight:600;color:#b71c1c}.card .label{font-size:13px;color:#555}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{background:#fff;border:1px solid #ddd;border-radius:6px;margin:0;padding:8px}
.chart figcaption{font-weight:600;margin-bottom:4px}table{border-collapse:collapse;margin-top:16px;background:#fff}
th,td{border:1px solid #ddd;padding:4px 8px;font-size:13px;text-align:left}.num{text-align:right}
.total{font-weight:600}.warn{background:#fff3e0;border:1px solid #ef6c00;padding:6px 10px}.muted{color:#777;font-size:12px}
#status{color:#b71c1c;min-height:1.2em}
"""

SCRIPT = """
(function () {
  "use strict";
  var token = null;
  function el(id) { return document.getElementById(id); }
  function say(text) { el("status").textContent = text || ""; }
  function problem(text, status) {
    try { var p = JSON.parse(text); return (p.detail || p.title || "") + " (" + status + ")"; }
    catch (e) { return "请求失败 (" + status + ")"; }
  }
  function url(format) {
    var p = new URLSearchParams();
    if (el("from").value) { p.set("from", el("from").value); }
    if (el("to").value) { p.set("to", el("to").value); }
    if (el("community").value) { p.set("community", el("community").value); }
    p.set("format", format);
    return "/api/v1/reports/summary?" + p.toString();
  }
  function get(format) {
    if (!token) { say("请先登录或粘贴访问令牌。"); return Promise.reject(new Error("no token")); }
    return fetch(url(format), { headers: { Authorization: "Bearer " + token }, credentials: "omit" })
      .then(function (r) {
        if (r.status === 401) { token = null; }
        if (!r.ok) { return r.text().then(function (t) { throw new Error(problem(t, r.status)); }); }
        return r;
      });
  }
  function load() {
    say("加载中…");
    get("html").then(function (r) { return r.text(); })
      .then(function (html) { el("panel").innerHTML = html; say(""); })
      .catch(function (e) { if (token) { say(e.message); } });
  }
  function download() {
    get("csv").then(function (r) { return r.blob(); }).then(function (blob) {
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "doorstep-figures.csv";
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
    }).catch(function (e) { if (token) { say(e.message); } });
  }
  el("login").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = new URLSearchParams();
    body.set("grant_type", "password");
    body.set("username", el("username").value);
    body.set("password", el("password").value);
    el("password").value = "";
    fetch("/api/v1/auth/token", { method: "POST", body: body, credentials: "omit" })
      .then(function (r) { return r.text().then(function (t) { return { r: r, t: t }; }); })
      .then(function (x) {
        if (!x.r.ok) { say(problem(x.t, x.r.status)); return; }
        token = JSON.parse(x.t).access_token; load();
      })
      .catch(function () { say("无法连接服务器。"); });
  });
  el("paste").addEventListener("submit", function (ev) {
    ev.preventDefault();
    token = el("token").value.trim() || null;
    el("token").value = "";
    load();
  });
  el("query").addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
  el("csv").addEventListener("click", download);
})();
"""


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@lru_cache(maxsize=4)
def dashboard_page(county: str, communities: tuple[tuple[str, str], ...]) -> tuple[bytes, str]:
    """The page and its Content-Security-Policy (only this script and style may run), for the
    directory's county name and (code, name) of its communities."""
    options = "".join(f'<option value="{_e(code)}">{_e(name)}</option>' for code, name in communities)
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{_e(county)}家门口服务 · 数据看板</title>
<style>{STYLE}</style></head>
<body><header><h1>{_e(county)}“家门口”服务 · 数据看板</h1></header>
<main>
<form id="login" autocomplete="off"><label>用户名 <input id="username" required maxlength="64"></label>
<label>密码 <input id="password" type="password" required maxlength="256"></label><button>登录</button></form>
<form id="paste" autocomplete="off"><label>或粘贴访问令牌 <input id="token" type="password" maxlength="4096"></label>
<button>使用令牌</button></form>
<form id="query"><label>起 <input id="from" type="date"></label><label>止 <input id="to" type="date"></label>
<label>社区 <select id="community"><option value="">全部（按权限）</option>{options}</select></label>
<button>查询</button><button type="button" id="csv">下载 CSV</button></form>
<p id="status" role="status"></p>
<section id="panel"><p class="muted">登录后显示数据。</p></section>
</main>
<script>{SCRIPT}</script></body></html>"""
    policy = (
        f"default-src 'none'; script-src {_hash(SCRIPT)}; style-src {_hash(STYLE)}; "
        "connect-src 'self'; img-src 'self' data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    return page.encode(), policy
