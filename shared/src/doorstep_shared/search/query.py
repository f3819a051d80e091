"""Query understanding: a typed query becomes terms, each a list of scoring slots.

1. Canonical text (``text.canonical``), spaces ignored; typed pinyin split into syllables
   (``gaoningbutie``), Latin runs that are not pinyin read as initials (``cjrlxbt``).
2. Segmentation by the index's own vocabulary (every name, alias and material name, the
   synonyms and the fillers): the most characters in the longest known words. Words outside
   it stay together as runs, so a slip (高令补贴) still matches by sound.
3. Filler words (怎么, 申请, 了, 有什么 …) are dropped, then the rest is segmented again.
4. A term that is a synonym gets the other words of its group as alternatives.

A slot is one character pair of a term (one character for one-character terms), with the
posting keys that may satisfy it: the characters themselves, or their (fuzzy) pinyin.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from .phonetics import SYLLABLES, FuzzyPinyin, is_han, readings, split_syllables
from .text import BREAK, canonical, units

MAX_QUERY_CHARS = 64
MAX_WORD_UNITS = 10
SEP = "\x1f"

# Exact characters outrank the same sounds; a synonym outranks neither.
PINYIN_FACTOR = 0.8
SYNONYM_FACTOR = 0.8
INITIALS_FACTOR = 0.7
UNIGRAM_FACTOR = 0.3
BRIDGE_FACTOR = 0.5  # a pair across a word boundary (or a dropped filler) may be chance

# Words that ask rather than name: dropped from a query (when something else is left).
FILLERS = (  # noqa: SIM905 (words, one readable line each)
    "怎么 怎样 如何 怎么办 怎么弄 咋办 咋 什么 有什么 有哪些 哪些 哪里 在哪 "
    "在哪里 去哪 去哪里 哪儿 可以 能不能 能否 是否 需要 要 想 我 我想 我要 我家 "
    "请问 一下 问下 问一下 办理 办 申请 手续 流程 了 的 吗 呢 啊 吧 呀 么 给 "
    "帮 帮忙 谁 多少 多久 条件 去 到 能 可 该 应该 有 有没有 会不会 行不行 "
).split()


class Unit(NamedTuple):
    surface: str  # the characters ("" for a syllable typed in pinyin)
    sounds: tuple[str, ...]  # folded syllables (digits and words: themselves)
    initial: str  # the initial letter of the first reading ("" for digits and words)


class Slot(NamedTuple):
    keys: tuple[tuple[str, float], ...]  # (posting key, factor)


class Reading(NamedTuple):
    """One way to read a term: its slots, the keys of a whole name or alias equal to it, and
    how much it is worth against the term as typed (1 for the term, less for a synonym)."""

    slots: tuple[Slot, ...]
    whole: tuple[str, ...]
    factor: float


class Term(NamedTuple):
    text: str
    readings: tuple[Reading, ...]
    share: float = 1.0  # the part of the query it stands for (units), for the exact bonus


@dataclass
class Vocabulary:
    """The words segmentation knows: the index's names, aliases and material names (counted,
    so removing a document forgets its words), synonym groups and fillers."""

    words: Counter[tuple[str, ...]] = field(default_factory=Counter)
    synonyms: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    fillers: frozenset[tuple[str, ...]] = frozenset()

    def knows(self, word: tuple[str, ...]) -> bool:
        return self.words[word] > 0 or word in self.synonyms or word in self.fillers

    def set_synonyms(self, groups: Iterable[Sequence[str]]) -> None:
        table: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for group in groups:
            words = [w for w in (word_units(g) for g in group) if w]
            for w in words:
                table.setdefault(w, []).extend(o for o in words if o != w and o not in table[w])
        self.synonyms = {w: tuple(others) for w, others in table.items()}

    def set_fillers(self, fillers: Iterable[str]) -> None:
        self.fillers = frozenset(w for w in (word_units(f) for f in fillers) if w)


def word_units(text: str) -> tuple[str, ...]:
    return tuple(u for u in units(canonical(text), join_spaces=True) if u != BREAK)


def _segment(surfaces: Sequence[str], vocab: Vocabulary) -> list[tuple[int, int, bool]]:
    """(start, end, known) spans: the most units covered by the longest known words."""
    n = len(surfaces)
    best: list[tuple[float, list[tuple[int, int, bool]]] | None] = [None] * (n + 1)
    best[0] = (0.0, [])
    for i in range(n):
        here = best[i]
        if here is None:
            continue
        score, spans = here
        options = [(i + 1, 1.0, False)]
        if surfaces[i]:
            for j in range(min(n, i + MAX_WORD_UNITS), i, -1):
                if all(surfaces[i:j]) and vocab.knows(tuple(surfaces[i:j])):
                    options.append((j, (j - i) ** 2 + 1.0, True))
        for j, gain, known in options:
            candidate = (score + gain, [*spans, (i, j, known)])
            if best[j] is None or candidate[0] > best[j][0]:  # type: ignore[index]
                best[j] = candidate
    final = best[n]
    return final[1] if final else []


@functools.lru_cache(maxsize=4096)
def _query_units(q: str, fuzzy: FuzzyPinyin) -> tuple[Unit | str, ...]:
    """Units of a query; a Latin run that is not pinyin stays a str (initials)."""
    out: list[Unit | str] = []
    for u in units(q, join_spaces=True):
        if u == BREAK:
            continue
        if is_han(u):
            rs = readings(u) or (u,)
            out.append(Unit(u, tuple(dict.fromkeys(fuzzy.fold(r) for r in rs)), rs[0][0]))
        elif u.isdigit():
            out.append(Unit(u, (u,), ""))
        else:
            syllables = split_syllables(u)
            if syllables is None:
                out.append(_partial_initials(u) or u)
            else:
                out.extend(Unit("", (fuzzy.fold(s),), s[0]) for s in syllables)
    return tuple(out)


def _partial_initials(letters: str) -> str | None:
    """Pinyin still being typed (``gaol``: gao + the start of a syllable) as initials (``gl``)."""
    for cut in range(len(letters) - 1, max(len(letters) - 6, 0), -1):
        head, tail = letters[:cut], letters[cut:]
        syllables = split_syllables(head)
        if syllables and any(s.startswith(tail) for s in SYLLABLES):
            return "".join(s[0] for s in syllables) + tail[0]
    return None


def _characters(run: Sequence[Unit]) -> tuple[Slot, ...]:
    """Single characters of a run no word covers, worth little: a slip of one character of two
    (残废证 for 残疾证) still finds the rest."""
    return tuple(Slot((("c" + u.surface, UNIGRAM_FACTOR),)) for u in run if u.surface)


def _slots(run: Sequence[Unit]) -> tuple[Slot, ...]:
    if len(run) == 1:
        u = run[0]
        keys = [("c" + u.surface, 1.0)] if u.surface else []
        keys += [("p" + s, PINYIN_FACTOR) for s in u.sounds if s != u.surface]
        return (Slot(tuple(keys)),)
    slots = []
    for a, b in itertools.pairwise(run):
        keys = [("c" + a.surface + SEP + b.surface, 1.0)] if a.surface and b.surface else []
        keys += [("p" + x + SEP + y, PINYIN_FACTOR) for x in a.sounds for y in b.sounds]
        slots.append(Slot(tuple(keys)))
    return tuple(slots)


def _whole(run: Sequence[Unit]) -> tuple[str, ...]:
    keys = ["y" + SEP.join(u.sounds[0] for u in run)]
    if all(u.surface for u in run):
        keys.append("x" + "".join(u.surface for u in run))
    return tuple(keys)


def initials_slots(letters: str) -> tuple[Slot, ...]:
    if len(letters) <= 3:
        return (Slot((("i" + letters, INITIALS_FACTOR),)),)
    return tuple(Slot((("i" + letters[i : i + 3], INITIALS_FACTOR),)) for i in range(len(letters) - 2))


def _term(run: Sequence[Unit], vocab: Vocabulary, fuzzy: FuzzyPinyin) -> Term:
    text = "".join(u.surface or u.sounds[0] for u in run)
    found = [Reading(_slots(run), _whole(run), 1.0)]
    key = tuple(u.surface for u in run)
    for other in vocab.synonyms.get(key, ()):
        reading = _synonym_reading("".join(other), fuzzy)
        if reading is not None:
            found.append(reading)
    return Term(text, tuple(found))


@functools.lru_cache(maxsize=4096)
def _synonym_reading(word: str, fuzzy: FuzzyPinyin) -> Reading | None:
    alt = [u for u in _query_units(word, fuzzy) if isinstance(u, Unit)]
    return Reading(_slots(alt), _whole(alt), SYNONYM_FACTOR) if alt else None


def _initials_term(letters: str) -> Term:
    return Term(letters, (Reading(initials_slots(letters), ("z" + letters,), 1.0),))


_CHINESE_DIGITS = re.compile("[零〇一二三四五六七八九]{3,}")
_DIGIT_OF = str.maketrans("零〇一二三四五六七八九", "00123456789")
_CHINESE_TENS = re.compile("一百|([一二三四五六七八九])十([一二三四五六七八九])?")


def _tens(m: re.Match[str]) -> str:
    if m.group() == "一百":
        return "100"
    return str(int(m.group(1).translate(_DIGIT_OF)) * 10 + int((m.group(2) or "0").translate(_DIGIT_OF)))


def analyse(query: str, vocab: Vocabulary, fuzzy: FuzzyPinyin) -> list[list[Term]]:
    """The query's readings as term lists (scored separately, best kept per document): as
    typed, and, when it mixes initials with characters or pinyin (``gl补贴``), all initials."""
    q = canonical(query[: MAX_QUERY_CHARS * 4])[: MAX_QUERY_CHARS * 2]
    # A number read out digit by digit (四零五零 → 4050); two characters (一级) stay words.
    q = _CHINESE_DIGITS.sub(lambda m: m.group().translate(_DIGIT_OF), q)
    # A number said with tens and hundreds (八十 → 80, 五十五 → 55, 一百 → 100): ages mostly.
    q = _CHINESE_TENS.sub(_tens, q)
    parts = list(_query_units(q, fuzzy)[:MAX_QUERY_CHARS])
    if not parts:
        return []
    kept = _without_fillers(parts, vocab)
    terms: list[Term] = []
    run: list[Unit] = []

    def flush() -> None:
        if run:
            term = _term(run, vocab, fuzzy)
            if len(run) > 1:
                main = term.readings[0]
                term = term._replace(readings=(main._replace(slots=main.slots + _characters(run)), *term.readings[1:]))
            terms.append(term)
            run.clear()

    chunk: list[Unit] = []
    for part in [*kept, ""]:
        if isinstance(part, Unit):
            chunk.append(part)
            continue
        bridges: list[Slot] = []
        after_word = False
        for start, end, known in _segment([u.surface for u in chunk], vocab):
            if start and (known or after_word):
                # The pair across a word boundary still counts (廉|租房 in 廉租房).
                bridges.extend(_slots(chunk[start - 1 : start + 1]))
            if known:
                flush()
                terms.append(_term(chunk[start:end], vocab, fuzzy))
            else:
                run.extend(chunk[start:end])
            after_word = known
        flush()
        if bridges:
            terms.append(Term("", (Reading(tuple(bridges), (), BRIDGE_FACTOR),)))
        chunk = []
        if part:
            terms.append(_initials_term(part))
    size = sum(len(t.text) for t in terms) or 1
    terms = [t._replace(share=len(t.text) / size) for t in terms]
    plans = [terms]
    if any(isinstance(p, str) for p in kept) and any(isinstance(p, Unit) for p in kept):
        letters = "".join(p if isinstance(p, str) else p.initial for p in kept)
        plans.append([_initials_term(letters)])
    return plans


def _without_fillers(parts: list[Unit | str], vocab: Vocabulary) -> list[Unit | str]:
    """The query without its filler words (segmented first, so a filler inside a known word,
    like 办 in 办残疾证, stays); the query as it was if nothing else would be left."""
    out: list[Unit | str] = []
    chunk: list[Unit] = []
    for part in [*parts, ""]:
        if isinstance(part, Unit):
            chunk.append(part)
            continue
        for start, end, known in _segment([u.surface for u in chunk], vocab):
            word = tuple(u.surface for u in chunk[start:end])
            if not (known and word in vocab.fillers):
                out.extend(chunk[start:end])
        chunk = []
        if part:
            out.append(part)
    return out or parts
