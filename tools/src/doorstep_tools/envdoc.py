"""The configuration table of the README, generated from the apps' settings classes.

``python -m doorstep_tools.envdoc`` prints it; ``--write README.md`` replaces the part between
``<!-- env:start -->`` and ``<!-- env:end -->``. A test fails when the README is out of date.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from doorstep_shared.config import ServiceSettings

from .apps import SERVICES, settings_of

START, END = "<!-- env:start -->", "<!-- env:end -->"
HIDDEN = {"service_name"}


def _env_names(cls: Any, name: str, field: FieldInfo) -> str:
    alias = field.validation_alias
    if isinstance(alias, str):
        return f"`{alias}`"
    if alias is not None and hasattr(alias, "choices"):
        return " or ".join(f"`{c}`" for c in alias.choices)
    return f"`{cls.model_config.get('env_prefix', '')}{name.upper()}`"


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    else:
        value = field.default
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    text = str(value)
    if "/var" in text and "/" in text:
        text = "./var" + text.split("/var", 1)[1]
    return f"`{text}`"


def _row(env: str, default: str, description: str | None) -> str:
    return f"| {env} | {default} | {(description or '').replace('|', '/')} |"


def table() -> str:
    """Common settings once (``<APP>`` = GATEWAY, CATALOG, PROXY, STATIONS), then each app's own."""
    classes = {app: type(settings_of(app)) for app in SERVICES}
    common = ServiceSettings.model_fields
    ports = ", ".join(f"{app} {cls.model_fields['port'].default}" for app, cls in classes.items())
    lines = [
        "Every app (`<APP>` is `GATEWAY`, `CATALOG`, `PROXY` or `STATIONS`):",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name, field in common.items():
        if name in HIDDEN:
            continue
        default = {"port": ports, "database_url": "SQLite `./var/<app>.db`"}.get(name) or _default(field)
        lines.append(_row(f"`DOORSTEP_<APP>_{name.upper()}`", default, field.description))
    for app, cls in classes.items():
        own = [(n, f) for n, f in cls.model_fields.items() if n not in common and n not in HIDDEN]
        if not own:
            continue
        lines += ["", f"{app}:", "", "| variable | default | meaning |", "|---|---|---|"]
        lines += [_row(_env_names(cls, n, f), _default(f), f.description) for n, f in own]
    return "\n".join(lines)


def replace_in(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table()}\n{END}{tail}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path, help="update this Markdown file in place")
    args = parser.parse_args()
    if args.write:
        args.write.write_text(replace_in(args.write.read_text()))
    else:
        print(table())


if __name__ == "__main__":
    main()
