"""Open311 ↔ Doorstep: items as services (attributes), a submission as a demand, a demand as a request.

Pure translation (plus parsing the submitted body): which items are services,
the service definition's attributes, parsing and checking a POST, the demand text that carries
the location and answers, the date window of GET requests, and the status mapping (demand and
case states → open/closed with a Chinese note). docs/open311.md has the tables.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData

from doorstep_shared.clock import SHANGHAI, utcnow
from doorstep_shared.directory import Directory

from ..forwarding.schemas import CatalogView
from .render import Open311Error

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
WINDOW = dt.timedelta(days=90)
MAX_RESULTS = 1000
MAX_IDS = 100
MAX_CODES = 50
MAX_PAGES = 50
PAGE = 200
CASE_LOOKUPS = 8  # concurrent case reads per listing
DESCRIPTION_MAX = 2000  # the proxy's limit for a demand's text (the spec allows 4,000)
MARKER = "—— Open311 ——"

FORMS = {"original": "原件", "copy": "复印件", "electronic": "电子版"}
KIND_VALUES = [("request", "办理（申请代办）"), ("consultation", "咨询")]
MATERIAL_VALUES = [("ready", "已备齐"), ("missing", "暂缺"), ("unsure", "不确定")]
MATERIAL_NAMES = dict(MATERIAL_VALUES)

# Demand status → (Open311 status, status note); "answered" shows the answer itself.
DEMAND_STATUS = {
    "open": ("open", "已受理，等待社区工作人员处理"),
    "answered": ("closed", "已答复"),
    "converted": ("open", "已转为代办件"),
    "closed": ("closed", "已办结"),
}
# Case status → (Open311 status, status note), once the demand became a case.
CASE_STATUS = {
    "accepted": ("open", "已转为代办件，已受理"),
    "scheduled": ("open", "已安排上门服务"),
    "visited": ("open", "已上门服务"),
    "materials_complete": ("open", "申请材料已收齐"),
    "filed": ("open", "已报送审批部门"),
    "approved": ("closed", "审批通过，已办结"),
    "rejected": ("closed", "审批未通过"),
    "closed": ("closed", "已办结"),
    "withdrawn": ("closed", "已撤回"),
}

# Fields of POST requests (the spec's); api_key is the credential (open311.credentials), never stored.
POST_FIELDS = {
    "jurisdiction_id": 100,
    "api_key": 200,
    "service_code": 64,
    "lat": 40,
    "long": 40,
    "address_string": 300,
    "address_id": 64,
    "email": 254,
    "device_id": 100,
    "account_id": 64,
    "first_name": 25,
    "last_name": 25,
    "phone": 20,
    "description": DESCRIPTION_MAX,
    "media_url": 500,
}
MAX_ATTRIBUTES = 50
ATTRIBUTE_VALUE_MAX = 200
# Proxy fields in its errors → the Open311 field the caller sent.
PROXY_FIELDS = {
    "body.contact_phone": "phone",
    "body.contact_name": "first_name/last_name",
    "body.text": "description",
    "body.community": "attribute[community]",
    "body.grid": "address_string",
    "body.item_code": "service_code",
    "body.external_ref": "account_id",
    "body.kind": "attribute[kind]",
}

# --- helpers --------------------------------------------------------------------------------


def w3(moment: dt.datetime) -> str:
    """ISO 8601 with the offset, in the county's time (e.g. 2025-05-06T09:30:00+08:00)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def parse_instant(raw: Any) -> dt.datetime:
    value = dt.datetime.fromisoformat(str(raw))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def is_service(item: Mapping[str, Any]) -> bool:
    return bool(item.get("proxy_eligible")) or "window" in (item.get("channels") or [])


def services_of(view: CatalogView) -> list[dict[str, Any]]:
    def position(item: Mapping[str, Any]) -> tuple[int, str]:
        category = view.categories.get(str(item.get("category")), {})
        return int(category.get("position", 0)), str(item["code"])

    return sorted((i for i in view.items.values() if is_service(i)), key=position)


def find_service(view: CatalogView, code: str | None) -> dict[str, Any]:
    item = view.items.get(code or "")
    if item is None or not is_service(item):
        raise Open311Error(404, f"service_code {code!r} not found.")
    return item


def service_out(item: Mapping[str, Any], view: CatalogView) -> dict[str, Any]:
    category = view.categories.get(str(item.get("category")), {})
    return {
        "service_code": item["code"],
        "service_name": item.get("name", ""),
        "description": item.get("summary", ""),
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(item.get("aliases") or []),
        "group": item.get("category_name") or category.get("name") or item.get("category", ""),
    }


def _attribute(
    code: str,
    datatype: str,
    order: int,
    description: str,
    *,
    variable: bool = True,
    required: bool = False,
    datatype_description: str | None = None,
    values: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "variable": variable,
        "code": code,
        "datatype": datatype,
        "required": required,
        "datatype_description": datatype_description,
        "order": order,
        "description": description,
    }
    if values is not None:
        out["values"] = [{"key": k, "name": n} for k, n in values]
    return out


def attributes_of(item: Mapping[str, Any], directory: Directory) -> list[dict[str, Any]]:
    """The service definition: where (community), what kind, conditions, each required material."""
    attrs = [
        _attribute(
            "community",
            "singlevaluelist",
            1,
            "所在社区。地址中写明小区名称、或平台只对接一个社区时可不填。",
            values=[(c.code, c.name) for c in directory.communities],
        ),
        _attribute("kind", "singlevaluelist", 2, "诉求类型（默认：办理）", values=KIND_VALUES),
    ]
    if item.get("conditions"):
        attrs.append(
            _attribute("conditions", "text", len(attrs) + 1, f"办理条件：{item['conditions']}", variable=False)
        )
    for n, material in enumerate(item.get("materials") or [], start=1):
        form = FORMS.get(str(material.get("form")), str(material.get("form", "")))
        text = f"所需材料：{material.get('name', '')}（{form}{material.get('count', 1)}份）"
        if material.get("notes"):
            text += f"，{material['notes']}"
        attrs.append(
            _attribute(
                f"material_{n}",
                "singlevaluelist",
                len(attrs) + 1,
                text,
                datatype_description="这份材料是否已备齐",
                values=MATERIAL_VALUES,
            )
        )
    if item.get("proxy_eligible"):
        attrs.append(
            _attribute(
                "preferred_visit",
                "string",
                len(attrs) + 1,
                "希望上门的时间（可上门代办）",
                datatype_description="例如：工作日上午",
            )
        )
    return attrs


def service_notice(item: Mapping[str, Any]) -> str:
    department = item.get("department") or "相关部门"
    notice = f"已受理，由{department}审批办理"
    if item.get("promised_days"):
        notice += f"，承诺{item['promised_days']}个工作日内办结"
    if item.get("proxy_eligible"):
        notice += "；本事项可上门代办，社区代办员将与您联系"
    return notice + "。"


# --- POST requests: parsing -----------------------------------------------------------------


@dataclass
class Submission:
    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, list[str]] = field(default_factory=dict)


def _attribute_key(key: str) -> tuple[str, bool] | None:
    """``attribute[code]`` → (code, False); ``attribute[code][]`` → (code, True)."""
    if not key.startswith("attribute[") or not key.endswith("]"):
        return None
    inner = key[len("attribute[") : -1]
    many = inner.endswith("][")
    code = inner[:-2] if many else inner
    if not code or "[" in code or "]" in code or len(code) > 64:
        return None
    return code, many


def _parse_pairs(pairs: list[tuple[str, str]]) -> Submission:
    sub = Submission()
    problems: list[str] = []
    for key, value in pairs:
        attr = _attribute_key(key)
        if attr is not None:
            code, _ = attr
            values = sub.attributes.setdefault(code, [])
            if len(sub.attributes) > MAX_ATTRIBUTES or len(values) >= 20:
                problems.append("Too many attribute values.")
                break
            if len(value) > ATTRIBUTE_VALUE_MAX:
                problems.append(f"{key}: longer than {ATTRIBUTE_VALUE_MAX} characters")
            values.append(value)
        elif key in POST_FIELDS:
            if key in sub.fields:
                problems.append(f"{key}: given more than once")
            elif len(value) > POST_FIELDS[key]:
                problems.append(f"{key}: longer than {POST_FIELDS[key]} characters")
            else:
                sub.fields[key] = value.strip()
        else:
            problems.append(f"{key[:64]}: not a field of this call")
    if problems:
        raise Open311Error(400, *dict.fromkeys(problems))
    return sub


def _json_pairs(body: Any) -> list[tuple[str, str]]:
    if not isinstance(body, dict):
        raise Open311Error(400, "The body must be a JSON object (or application/x-www-form-urlencoded).")
    pairs: list[tuple[str, str]] = []
    for key, value in body.items():
        if key == "attribute" and isinstance(value, dict):
            for code, inner in value.items():
                for v in inner if isinstance(inner, list) else [inner]:
                    pairs.append((f"attribute[{code}][]" if isinstance(inner, list) else f"attribute[{code}]", _str(v)))
        elif isinstance(value, list | dict):
            raise Open311Error(400, f"{str(key)[:64]}: must be a single value")
        else:
            pairs.append((str(key), _str(value)))
    return pairs


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        raise Open311Error(400, "Attribute values must be strings or numbers.")
    return str(value)


async def read_submission(request: Request) -> Submission:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise Open311Error(400, "The body is not valid JSON.") from None
        return _parse_pairs(_json_pairs(body))
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data", ""):
        try:
            form: FormData = await request.form(max_files=0, max_fields=200)
        except Exception:  # a malformed or oversized form is the client's error
            raise Open311Error(400, "The form data could not be read.") from None
        pairs = []
        for key, value in form.multi_items():
            if not isinstance(value, str):
                raise Open311Error(400, "File uploads are not accepted; send media_url instead.")
            pairs.append((key, value))
        return _parse_pairs(pairs)
    raise Open311Error(400, "Send the request as application/x-www-form-urlencoded (or JSON).")


def coordinates_of(fields: Mapping[str, str]) -> tuple[float, float] | None:
    lat, lon = fields.get("lat", ""), fields.get("long", "")
    if not lat and not lon:
        return None
    if not lat or not lon:
        raise Open311Error(400, "lat and long must be sent together.")
    try:
        lat_f, lon_f = float(lat), float(lon)
    except ValueError:
        raise Open311Error(400, "lat and long must be numbers (WGS84 degrees).") from None
    if not (math.isfinite(lat_f) and math.isfinite(lon_f) and -90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        raise Open311Error(400, "lat must be within ±90 and long within ±180.")
    return lat_f, lon_f


def checked_attributes(item: Mapping[str, Any], given: dict[str, list[str]], directory: Directory) -> dict[str, str]:
    """Submitted attribute values against the service definition (code → chosen value)."""
    definition = {a["code"]: a for a in attributes_of(item, directory)}
    problems: list[str] = []
    chosen: dict[str, str] = {}
    for code, values in given.items():
        attr = definition.get(code)
        values = [v.strip() for v in values if v.strip()]
        if attr is None or not attr["variable"]:
            problems.append(f"attribute[{code}]: not an attribute of service {item['code']!r}")
            continue
        if not values:
            continue
        if len(values) > 1:
            problems.append(f"attribute[{code}]: takes a single value")
            continue
        keys = [v["key"] for v in attr.get("values") or []]
        if keys and values[0] not in keys:
            problems.append(f"attribute[{code}]: must be one of {', '.join(keys)}")
            continue
        if "\n" in values[0] or "\r" in values[0]:
            problems.append(f"attribute[{code}]: a single line is expected")
            continue
        chosen[code] = values[0]
    for code, attr in definition.items():
        if attr["required"] and code not in chosen:
            problems.append(f"attribute[{code}]: required")
    if problems:
        raise Open311Error(400, *problems)
    return chosen


def place_of(directory: Directory, community: str | None, address: str) -> tuple[str | None, str | None]:
    """Community and grid: the attribute if given; else the compound named in the address (the
    longest name that appears in it)."""
    named = [c for c in directory.compounds if address and c.name in address]
    compound = max(named, key=lambda c: len(c.name), default=None)
    if community:
        grid = compound.grid if compound is not None and compound.community == community else None
        return community, grid
    if compound is not None:
        return compound.community, compound.grid
    return None, None


def compose_text(item: Mapping[str, Any], sub: Submission, chosen: dict[str, str]) -> str:
    """The demand's text: the description, then the location and answers as labelled lines."""
    fields = sub.fields
    lines = []
    if fields.get("address_string"):
        lines.append(f"地址：{fields['address_string']}")
    if fields.get("address_id"):
        lines.append(f"地址编号：{fields['address_id']}")
    coordinates = coordinates_of(fields)
    if coordinates:
        lines.append(f"坐标：{coordinates[0]},{coordinates[1]}")
    if fields.get("media_url"):
        lines.append(f"附件：{fields['media_url']}")
    for n, material in enumerate(item.get("materials") or [], start=1):
        value = chosen.get(f"material_{n}")
        if value:
            lines.append(f"材料·{material.get('name', '')}：{MATERIAL_NAMES.get(value, value)}")
    if chosen.get("preferred_visit"):
        lines.append(f"上门时间：{chosen['preferred_visit']}")
    description = fields.get("description") or f"申请办理：{item.get('name', item['code'])}"
    text = description if not lines else "\n".join([description, MARKER, *lines])
    if len(text) > DESCRIPTION_MAX:
        raise Open311Error(
            400, f"description: with the location and attributes, longer than {DESCRIPTION_MAX} characters"
        )
    return text


def parse_text(text: str) -> dict[str, Any]:
    """What ``compose_text`` wrote, read back for GET requests."""
    description, _, rest = text.partition("\n" + MARKER + "\n")
    out: dict[str, Any] = {"description": description}
    for line in rest.splitlines():
        label, _, value = line.partition("：")
        if label == "地址":
            out["address"] = value
        elif label == "地址编号":
            out["address_id"] = value
        elif label == "附件":
            out["media_url"] = value
        elif label == "坐标":
            lat, _, lon = value.partition(",")
            with contextlib.suppress(ValueError):
                out["lat"], out["long"] = float(lat), float(lon)
    return out


def check_media_url(raw: str) -> None:
    if raw and not raw.lower().startswith(("http://", "https://")):
        raise Open311Error(400, "media_url: must be an http(s) URL")


def proxy_errors(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["The request could not be accepted."]
    out = []
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            name = PROXY_FIELDS.get(str(error.get("field")), str(error.get("field", "request")))
            out.append(f"{name}: {error.get('message', 'invalid')}")
    return out or [str(body.get("detail") or "The request could not be accepted.")]


# --- GET requests: reading and mapping -----------------------------------------------------


def _parse_time(name: str, raw: str) -> dt.datetime:
    raw = raw.strip()
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise Open311Error(400, f"{name}: not a w3 date/time such as 2010-01-01T00:00:00Z") from None
    if value.tzinfo is None:
        if "T" in raw or " " in raw:
            raise Open311Error(400, f"{name}: the time zone (Z or ±hh:mm) is required")
        value = value.replace(tzinfo=SHANGHAI)
    if not 1970 <= value.year <= 2200:
        raise Open311Error(400, f"{name}: out of range")
    return value.astimezone(dt.UTC)


def request_window(start_raw: str | None, end_raw: str | None) -> tuple[dt.datetime, dt.datetime]:
    start = _parse_time("start_date", start_raw) if start_raw and start_raw.strip() else None
    end = _parse_time("end_date", end_raw) if end_raw and end_raw.strip() else None
    if start and end:
        if end < start:
            raise Open311Error(400, "end_date is before start_date.")
        if end - start > WINDOW:
            raise Open311Error(400, "start_date and end_date may not span more than 90 days.")
        return start, end
    if start:
        return start, start + WINDOW
    if end:
        return end - WINDOW, end
    now = utcnow()
    return now - WINDOW, now


def comma_list(raw: str | None, name: str, limit: int) -> list[str]:
    values = [v.strip() for v in (raw or "").split(",") if v.strip()]
    if len(values) > limit:
        raise Open311Error(400, f"{name}: at most {limit} values")
    return list(dict.fromkeys(values))


def status_of(demand: Mapping[str, Any], case: Mapping[str, Any] | None) -> tuple[str, str]:
    if case is not None and case.get("status") in CASE_STATUS:
        return CASE_STATUS[str(case["status"])]
    status, note = DEMAND_STATUS.get(str(demand.get("status")), ("open", "已受理"))
    if demand.get("status") == "answered" and demand.get("answer"):
        note = f"已答复：{demand['answer']}"
    return status, note


def request_out(demand: Mapping[str, Any], case: Mapping[str, Any] | None, view: CatalogView | None) -> dict[str, Any]:
    item = (view.items.get(str(demand.get("item_code"))) if view else None) or {}
    status, note = status_of(demand, case)
    updated = parse_instant(demand["updated_at"])
    expected = None
    if case is not None:
        updated = max(updated, parse_instant(case["updated_at"]))
        if case.get("due_date"):
            due = dt.date.fromisoformat(str(case["due_date"]))
            expected = w3(dt.datetime.combine(due, dt.time(23, 59, 59), tzinfo=SHANGHAI))
    text = parse_text(str(demand.get("text") or ""))
    agency = item.get("department") or (case or {}).get("snapshot", {}).get("department") or None
    return {
        "service_request_id": str(demand["id"]),
        "status": status,
        "status_notes": note,
        "service_name": item.get("name") or (case or {}).get("item_name"),
        "service_code": demand.get("item_code"),
        "description": text.get("description"),
        "agency_responsible": agency,
        "service_notice": service_notice(item) if item else None,
        "requested_datetime": w3(parse_instant(demand["created_at"])),
        "updated_datetime": w3(updated),
        "expected_datetime": expected,
        "address": text.get("address"),
        "address_id": text.get("address_id"),
        "zipcode": None,
        "lat": text.get("lat"),
        "long": text.get("long"),
        "media_url": text.get("media_url"),
    }
