"""Text as search sees it: one canonical form (full-width → half-width, traditional →
simplified, lower case) cut into units: a Chinese character, or a run of Latin letters or
digits; anything else (spaces, punctuation) is a break between units."""

from __future__ import annotations

import functools
import unicodedata

import opencc

from .phonetics import is_han

BREAK = ""


@functools.cache
def _converter() -> opencc.OpenCC:
    # OpenCC ships its dictionaries in the wheel: nothing is fetched at run time.
    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=65536)
def canonical(text: str) -> str:
    """NFKC (full-width letters, digits and punctuation become half-width), simplified
    characters, lower case; control and format characters dropped."""
    folded = unicodedata.normalize("NFKC", text)
    if any(is_han(ch) for ch in folded):
        folded = _converter().convert(folded)
    return "".join(ch for ch in folded.lower() if unicodedata.category(ch)[0] != "C" or ch.isspace())


def _kind(ch: str) -> str:
    if is_han(ch):
        return "h"
    if "a" <= ch <= "z":
        return "a"
    if "0" <= ch <= "9":
        return "d"
    return ""


def units(text: str, *, join_spaces: bool = False) -> list[str]:
    """The units of canonical text, with ``BREAK`` where a separator stood. ``join_spaces``
    ignores whitespace (a query: "gao ling" = "gaoling", "社保 卡" = "社保卡")."""
    out: list[str] = []
    run, run_kind = "", ""
    for ch in text:
        if join_spaces and ch.isspace():
            continue
        kind = _kind(ch)
        if kind in ("a", "d") and kind == run_kind:
            run += ch
            continue
        if run:
            out.append(run)
            run, run_kind = "", ""
        if kind == "h":
            out.append(ch)
        elif kind:
            run, run_kind = ch, kind
        elif out and out[-1] != BREAK:
            out.append(BREAK)
    if run:
        out.append(run)
    while out and out[-1] == BREAK:
        out.pop()
    return out
