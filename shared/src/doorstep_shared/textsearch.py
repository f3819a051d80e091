"""An in-memory text index for short Chinese documents: characters, full pinyin, pinyin initials.

Documents have named fields with weights (e.g. name 3 > alias 2 > other text 1). A query
matches a field when it is

- a substring of the field's text (Chinese characters, digits, Latin; case-insensitive);
- for fields indexed with pinyin: a run of whole syllables with an optional partial last one
  (``gaoling``, ``gaol`` → 高龄) starting at a syllable, or a run of syllable initials
  (``gl``); or a mix of characters and pinyin (``高ling``, ``gao龄``, ``gl补贴``).

Polyphonic characters: each text gets its in-context reading (pypinyin's phrase dictionary:
重度 → zhong du) plus, for each polyphonic character, a variant with each other reading, so a
user who types another reading still finds it, without a combinatorial explosion.

How it stays fast: per field, all surface forms are joined into one string per kind (text,
full pinyin, initials) with a separator no query can contain, so a candidate costs a few
``str.find`` calls; candidates come from an inverted index of character n-grams (trigrams
for queries of 3+ characters, bigrams, unigrams) intersected smallest first; ranked results
are memoised per query until the index is rebuilt. Queries are normalised (NFKC, lower case,
no spaces or control characters) and capped at ``MAX_QUERY_CHARS``, so any string in any
script is safe.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from pypinyin import Style, lazy_pinyin, pinyin

MAX_QUERY_CHARS = 64
MAX_FIELD_VARIANTS = 12
MEMO_SIZE = 512

_SEP = "\x00"
_TEXT, _FULL, _INITIALS, _ANCHOR = "t", "p", "i", "^"  # posting-key tags per surface kind
# Queries up to this long are answered from scored postings (pinyin is typed in longer runs).
_SCORED_LENGTH = {_TEXT: 3, _FULL: 6, _INITIALS: 6}
_EXACT_BONUS = 0.5
_PREFIX_BONUS = 0.3
_PINYIN_PENALTY = 0.05
_ALT_PENALTY = 0.3  # a rarer reading of a polyphonic character


@dataclass(frozen=True)
class FieldSpec:
    """A document field: its weight in ranking and whether pinyin forms are indexed."""

    name: str
    weight: float
    pinyin: bool = False


class Hit(NamedTuple):
    key: str
    score: float
    field: str


@dataclass(frozen=True)
class _Field:
    spec: FieldSpec
    text: str  # the field's texts joined by _SEP
    full: str  # in-context full pinyin of each text, joined by _SEP ("" when not indexed)
    full_starts: frozenset[int]  # offsets in ``full`` where a syllable starts
    initials: str  # in-context initials, joined by _SEP
    alt_full: str  # the same with one polyphonic character read another way (ranked lower)
    alt_starts: frozenset[int]
    alt_initials: str
    # (haystack, syllable starts or None, score weight) per pinyin kind, precomputed for _score
    full_forms: tuple[tuple[str, frozenset[int] | None, float], ...] = ()
    initials_forms: tuple[tuple[str, frozenset[int] | None, float], ...] = ()


def normalise(text: str) -> str:
    """NFKC, lower case, without whitespace and control characters ("gao ling" = "gaoling")."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if not ch.isspace() and unicodedata.category(ch)[0] != "C")


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


_split_chars: Any = list  # non-Han runs come back one character per item, aligned with text


@functools.lru_cache(maxsize=16384)
def _readings(ch: str) -> tuple[str, ...]:
    return tuple(pinyin(ch, style=Style.NORMAL, heteronym=True)[0])


def _syllable_runs(text: str) -> list[list[str]]:
    """Per character, its readings (in-context reading first); other characters as they are."""
    context = lazy_pinyin(text, errors=_split_chars)
    out: list[list[str]] = []
    for ch, reading in zip(text, context, strict=False):
        if _is_han(ch):
            out.append([reading, *(r for r in _readings(ch) if r != reading)])
        else:
            out.append([ch])
    return out


@functools.lru_cache(maxsize=65536)
def _pinyin_forms(text: str) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """(full pinyin, syllable starts) for the in-context reading and each one-character variant."""
    if not any(_is_han(ch) for ch in text):
        return ()
    runs = _syllable_runs(text)
    variants = [[r[0] for r in runs]]
    for i, readings in enumerate(runs):
        for alt in readings[1:]:
            if len(variants) >= MAX_FIELD_VARIANTS:
                break
            variant = list(variants[0])
            variant[i] = alt
            variants.append(variant)
    forms = []
    for syllables in variants:
        starts, pos = [], 0
        for s in syllables:
            starts.append(pos)
            pos += len(s)
        forms.append(("".join(syllables), tuple(starts)))
    return tuple(forms)


def _joined(forms: Sequence[tuple[str, tuple[int, ...]]]) -> tuple[str, frozenset[int], str]:
    parts: list[str] = []
    starts: set[int] = set()
    initials: list[str] = []
    offset = 0
    for full, syllable_starts in forms:
        if full in parts:
            continue
        starts.update(offset + s for s in syllable_starts)
        parts.append(full)
        offset += len(full) + 1
        initial = "".join(full[s] for s in syllable_starts)
        if initial not in initials:
            initials.append(initial)
    return _SEP.join(parts), frozenset(starts), _SEP.join(initials)


def _make_field(spec: FieldSpec, texts: Sequence[str]) -> _Field | None:
    norms = [n for n in (normalise(t) for t in texts) if n]
    if not norms:
        return None
    primary: list[tuple[str, tuple[int, ...]]] = []
    alternates: list[tuple[str, tuple[int, ...]]] = []
    if spec.pinyin:
        for norm in norms:
            forms = _pinyin_forms(norm)
            primary.extend(forms[:1])
            alternates.extend(forms[1:])
    full, starts, initials = _joined(primary)
    alt_full, alt_starts, alt_initials = _joined(alternates)
    weight = spec.weight - _PINYIN_PENALTY
    full_forms = tuple(
        (h, st, w) for h, st, w in ((full, starts, weight), (alt_full, alt_starts, weight - _ALT_PENALTY)) if h
    )
    initials_forms = tuple((h, None, w) for h, w in ((initials, weight), (alt_initials, weight - _ALT_PENALTY)) if h)
    return _Field(
        spec,
        _SEP.join(norms),
        full,
        starts,
        initials,
        alt_full,
        alt_starts,
        alt_initials,
        full_forms,
        initials_forms,
    )


Scored = tuple[float, str]
_UNSCORED: Scored = (0.0, "")


@functools.lru_cache(maxsize=4096)
def _interned(score: float, field_name: str) -> Scored:
    """One shared tuple per distinct (score, field): postings hold millions of entries."""
    return (score, field_name)


Level = tuple[float, str, set[str]]


def _gram_levels(
    levels: list[Level],
    plain: set[str],
    text: str,
    tag: str,
    weight: float,
    field_name: str,
    starts: frozenset[int] | None = None,
) -> None:
    """The posting keys of one surface string, grouped by the score a query equal to the key
    would get: up to ``_SCORED_LENGTH[tag]`` characters from every position (text, initials)
    or from every syllable start (full pinyin, under the anchored key); a key that begins a
    text scores the prefix bonus, one that is a whole text the exact bonus. Full pinyin also
    gets unscored 1-3 character keys everywhere, for intersecting longer queries."""
    if not text:
        return
    length = len(text)
    longest = _SCORED_LENGTH[tag]
    prefix = tag if starts is None else _ANCHOR
    positions: Iterable[int] = range(length) if starts is None else starts
    keys = {
        prefix + gram
        for n in range(1, longest + 1)
        for i in positions
        if i + n <= length and _SEP not in (gram := text[i : i + n])
    }
    if starts is not None:
        plain.update(
            tag + gram for n in (1, 2, 3) for i in range(length - n + 1) if _SEP not in (gram := text[i : i + n])
        )
    prefixed: set[str] = set()
    exact: set[str] = set()
    at = 0
    while at < length:
        if starts is None or at in starts:
            for n in range(1, longest + 1):
                end = at + n
                gram = text[at:end]
                if end > length or gram[-1] == _SEP:
                    break
                whole = end == length or text[end] == _SEP
                (exact if whole else prefixed).add(prefix + gram)
        nxt = text.find(_SEP, at)
        at = length if nxt < 0 else nxt + 1
    levels.append((weight, field_name, keys))
    levels.append((weight + _PREFIX_BONUS, field_name, prefixed))
    levels.append((weight + _EXACT_BONUS, field_name, exact))


def _query_grams(text: str, tag: str) -> list[str]:
    n = min(len(text), 3)
    grams = dict.fromkeys(tag + text[i : i + n] for i in range(len(text) - n + 1))
    if tag == _FULL:
        grams = {_ANCHOR + text[:n]: None, **grams}
    return list(grams)


def _segment_bonus(haystack: str, at: int, length: int) -> float:
    """Exact match of one whole text > prefix of a text > inside a text."""
    if at != 0 and haystack[at - 1] != _SEP:
        return 0.0
    end = at + length
    return _EXACT_BONUS if end == len(haystack) or haystack[end] == _SEP else _PREFIX_BONUS


class TextIndex:
    """Build once (``add`` every document), then ``search`` many times; rebuild on change."""

    def __init__(self, fields: Sequence[FieldSpec]) -> None:
        self.fields = {f.name: f for f in fields}
        self._rank = {f.name: i for i, f in enumerate(sorted(fields, key=lambda f: -f.weight))}
        self._top_weight = max((f.weight for f in fields), default=0.0)
        self._keys: list[str] = []
        self._docs: list[tuple[_Field, ...]] = []
        # gram (tagged by kind) -> {document: best score of a query equal to the gram}
        self._postings: dict[str, dict[int, Scored]] = {}
        self._memo: OrderedDict[str, list[Hit]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._docs)

    def add(self, key: str, values: Mapping[str, str | Sequence[str]]) -> None:
        order = len(self._docs)
        fields: list[_Field] = []
        levels: list[Level] = []
        plain: set[str] = set()
        for name, raw in values.items():
            spec = self.fields.get(name)
            if spec is None:
                raise KeyError(f"unknown field {name!r}")
            made = _make_field(spec, [raw] if isinstance(raw, str) else list(raw))
            if made is None:
                continue
            fields.append(made)
            w = spec.weight
            _gram_levels(levels, plain, made.text, _TEXT, w, name)
            py = w - _PINYIN_PENALTY
            _gram_levels(levels, plain, made.full, _FULL, py, name, made.full_starts)
            _gram_levels(levels, plain, made.initials, _INITIALS, py, name)
            alt = py - _ALT_PENALTY
            _gram_levels(levels, plain, made.alt_full, _FULL, alt, name, made.alt_starts)
            _gram_levels(levels, plain, made.alt_initials, _INITIALS, alt, name)
        # Best level first: a key keeps the first (highest) score it is given.
        levels.sort(key=lambda level: -level[0])
        grams: dict[str, Scored] = {}
        for score, field_name, keys in levels:
            grams.update(dict.fromkeys(keys - grams.keys(), _interned(score, field_name)))
        grams.update(dict.fromkeys(plain - grams.keys(), _UNSCORED))
        fields.sort(key=lambda f: self._rank[f.spec.name])
        self._keys.append(key)
        self._docs.append(tuple(fields))
        postings = self._postings
        for g, scored in grams.items():
            posting = postings.get(g)
            if posting is None:
                postings[g] = {order: scored}
            else:
                posting[order] = scored
        self._memo.clear()

    def _variants(self, query: str) -> list[tuple[str, bool]]:
        """(text, pinyin_only) forms of a query: as typed, and with its characters in pinyin."""
        out = [(query, False)]
        if any(_is_han(ch) for ch in query) and any("a" <= ch <= "z" for ch in query):
            runs = _syllable_runs(query)
            full = "".join(r[0] for r in runs)
            initials = "".join(r[0][0] if _is_han(ch) else r[0] for ch, r in zip(query, runs, strict=False))
            out += [(v, True) for v in dict.fromkeys((full, initials)) if v != query]
        return out

    def _candidates(self, text: str, tag: str) -> set[int]:
        postings: list[dict[int, Scored]] = []
        for g in _query_grams(text, tag):
            p = self._postings.get(g)
            if not p:
                return set()
            postings.append(p)
        postings.sort(key=len)
        result = set(postings[0])
        for p in postings[1:]:
            result &= p.keys()
            if not result:
                break
        return result

    def search(self, query: str, *, limit: int | None = None, memo: bool = True) -> list[Hit]:
        """Hits best first: score = field weight + exact/prefix bonus; ties by insertion order."""
        q = normalise(query[: MAX_QUERY_CHARS * 4])[:MAX_QUERY_CHARS]
        if not q:
            return []
        hits = self._memo.get(q) if memo else None
        if hits is None:
            hits = self._search(q)
            if memo:
                self._memo[q] = hits
                if len(self._memo) > MEMO_SIZE:
                    self._memo.popitem(last=False)
        elif memo:
            self._memo.move_to_end(q)
        return hits[:limit] if limit is not None else list(hits)

    def _search(self, q: str) -> list[Hit]:
        best: dict[int, Scored] = {}
        ceiling = self._top_weight  # a hit at least this good cannot be beaten by pinyin forms
        for text, pinyin_only in self._variants(q):
            for tag in (_FULL, _INITIALS) if pinyin_only else (_TEXT, _FULL, _INITIALS):
                if len(text) <= _SCORED_LENGTH[tag]:  # the query is a gram: its posting holds the scores
                    posting = self._postings.get((_ANCHOR if tag == _FULL else tag) + text)
                    if not posting:
                        continue
                    if not best:
                        best.update(posting)
                        continue
                    for order, scored in posting.items():
                        known = best.get(order)
                        if known is None or scored[0] > known[0]:
                            best[order] = scored
                    continue
                for order in self._candidates(text, tag):
                    known = best.get(order)
                    if known is not None and known[0] >= ceiling:
                        continue
                    found = _score(self._docs[order], text, tag)
                    if found is not None and (known is None or found[0] > known[0]):
                        best[order] = found
        ranked = sorted(best.items(), key=_rank_key)
        keys = self._keys
        return [Hit(keys[o], s, f) for o, (s, f) in ranked]


def _rank_key(entry: tuple[int, Scored]) -> tuple[float, int]:
    return -entry[1][0], entry[0]


def _score(fields: tuple[_Field, ...], q: str, tag: str) -> Scored | None:
    """The best field of one surface kind a query matches; fields come heaviest first, so the
    loop stops as soon as no lighter field could beat what was found."""
    found: Scored | None = None
    size = len(q)
    for f in fields:
        if found is not None and f.spec.weight + _EXACT_BONUS <= found[0]:
            break
        score = -1.0
        if tag == _TEXT:
            at = f.text.find(q)
            if at >= 0:
                score = f.spec.weight + _segment_bonus(f.text, at, size)
        else:
            for haystack, starts, weight in f.full_forms if tag == _FULL else f.initials_forms:
                at = haystack.find(q)
                if starts is not None:
                    while at >= 0 and at not in starts:
                        at = haystack.find(q, at + 1)
                if at >= 0:
                    score = weight + _segment_bonus(haystack, at, size)
                    break
        if score >= 0 and (found is None or score > found[0]):
            found = (score, f.spec.name)
    return found


def build_index(
    fields: Sequence[FieldSpec], docs: Iterable[tuple[str, Mapping[str, str | Sequence[str]]]]
) -> TextIndex:
    index = TextIndex(fields)
    for key, values in docs:
        index.add(key, values)
    return index
