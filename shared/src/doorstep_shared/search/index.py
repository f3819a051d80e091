"""A ranked, incrementally updated index of short Chinese documents (a handbook's items).

Documents have weighted fields. Each text is cut into units (``text.units``) and posted under
keys: its characters and character pairs (``c``), the pairs' fuzzy pinyin (``p``, on fields
with ``pinyin``), the initials of its Chinese runs (``i``, on fields with ``initials``) and the
whole text (``x`` characters, ``y`` syllables, ``z`` initials) for an exact-match bonus. A
posting holds, per document, the best field weight times a BM25 length factor (a pair in a
short name counts more than in a long one).

A query (``query.analyse``) is a list of terms; a term scores, per document, the sum over its
slots of ``idf(key) × factor × posting weight`` (best key per slot, best reading per term),
times ``1 + EXACT_BONUS`` when it equals a whole name or alias. Terms add up: not every word
must match, and a document matching more of them, or rarer ones, ranks higher. Ties go to the
more popular document (``popularity``: how often it is handled), then to insertion order.

``upsert``/``remove`` change one document in place (no rebuild); results are memoised per
query until the next change.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .phonetics import FuzzyPinyin, context_readings, is_han, readings
from .query import FILLERS, SEP, Term, Vocabulary, analyse
from .text import BREAK, canonical, units

EXACT_BONUS = 0.6
POPULARITY_WEIGHT = 1e-4  # enough to order ties, never enough to beat a better match
MEMO_SIZE = 512
_K1, _B = 1.2, 0.6

_Post = Callable[..., None]  # records a key (and the units it covers) for one text


@dataclass(frozen=True)
class Field:
    """A document field: its weight, the length (in units) of a typical text, whether it is
    matched by pinyin and by initials, and whether its texts are words segmentation knows."""

    name: str
    weight: float
    typical_length: int = 8
    pinyin: bool = False
    initials: bool = False
    words: bool = False


class Hit(NamedTuple):
    key: str
    score: float
    field: str


class _Doc(NamedTuple):
    order: int
    keys: tuple[str, ...]
    words: tuple[tuple[str, ...], ...]
    # per highlightable text (pinyin fields): its units and each unit's posting keys
    texts: tuple[tuple[str, tuple[str, ...], tuple[frozenset[str], ...]], ...]
    popularity: float


def _length_factor(length: int, typical: int) -> float:
    return (_K1 + 1) / (1 + _K1 * (1 - _B + _B * length / max(typical, 1)))


class SearchIndex:
    def __init__(
        self,
        fields: Sequence[Field],
        *,
        fuzzy: FuzzyPinyin | None = None,
        synonyms: Iterable[Sequence[str]] = (),
        fillers: Iterable[str] = FILLERS,
    ) -> None:
        self.fields = {f.name: f for f in fields}
        self.fuzzy = fuzzy or FuzzyPinyin()
        self.vocabulary = Vocabulary()
        self.vocabulary.set_synonyms(synonyms)
        self.vocabulary.set_fillers(fillers)
        self._postings: dict[str, dict[str, tuple[float, str]]] = {}
        self._docs: dict[str, _Doc] = {}
        self._next = 0
        self._memo: OrderedDict[str, list[Hit]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, key: object) -> bool:
        return key in self._docs

    def set_synonyms(self, groups: Iterable[Sequence[str]]) -> None:
        self.vocabulary.set_synonyms(groups)
        self._memo.clear()

    # ------------------------------------------------------------------ documents

    def upsert(self, key: str, values: Mapping[str, str | Sequence[str]], *, popularity: float = 0.0) -> None:
        """Add a document, or replace the one with this key (its rank among ties is kept)."""
        old = self._docs.get(key)
        order = old.order if old else self._next
        if old is not None:
            self._unpost(key, old)
        else:
            self._next += 1
        grams: dict[str, tuple[float, str]] = {}
        words: list[tuple[str, ...]] = []
        texts: list[tuple[str, tuple[str, ...], tuple[frozenset[str], ...]]] = []
        for name, raw in values.items():
            spec = self.fields.get(name)
            if spec is None:
                raise KeyError(f"unknown field {name!r}")
            for text in [raw] if isinstance(raw, str) else raw:
                us = units(canonical(text))
                if not us:
                    continue
                weight = spec.weight * _length_factor(sum(u != BREAK for u in us), spec.typical_length)
                per_unit = self._text_keys(spec, us, grams, weight)
                if spec.words:
                    words.append(tuple(u for u in us if u != BREAK))
                if spec.pinyin:
                    texts.append((name, tuple(us), per_unit))
        for g, scored in grams.items():
            self._postings.setdefault(g, {})[key] = scored
        for w in words:
            self.vocabulary.words[w] += 1
        self._docs[key] = _Doc(order, tuple(grams), tuple(words), tuple(texts), popularity)
        self._memo.clear()

    def remove(self, key: str) -> None:
        old = self._docs.pop(key, None)
        if old is not None:
            self._unpost(key, old)
            self._memo.clear()

    def set_popularity(self, key: str, popularity: float) -> None:
        doc = self._docs.get(key)
        if doc is not None and doc.popularity != popularity:
            self._docs[key] = doc._replace(popularity=popularity)
            self._memo.clear()

    def _unpost(self, key: str, doc: _Doc) -> None:
        for g in doc.keys:
            posting = self._postings.get(g)
            if posting is not None:
                posting.pop(key, None)
                if not posting:
                    del self._postings[g]
        for w in doc.words:
            self.vocabulary.words[w] -= 1
            if self.vocabulary.words[w] <= 0:
                del self.vocabulary.words[w]

    def _text_keys(
        self, spec: Field, us: list[str], grams: dict[str, tuple[float, str]], weight: float
    ) -> tuple[frozenset[str], ...]:
        """Post one text's keys (keeping each key's best weight); the keys each unit takes
        part in, for highlighting."""
        found: list[set[str]] = [set() for _ in us]
        sounds: list[tuple[str, ...]] = []
        for u in us:
            if spec.pinyin and u != BREAK and is_han(u):
                sounds.append(tuple(dict.fromkeys(self.fuzzy.fold(r) for r in readings(u) or (u,))))
            else:
                sounds.append((u,) if u != BREAK else ())

        def post(g: str, *at: int) -> None:
            known = grams.get(g)
            if known is None or known[0] < weight:
                grams[g] = (weight, spec.name)
            for i in at:
                found[i].add(g)

        for i, u in enumerate(us):
            if u == BREAK:
                continue
            post("c" + u, i)
            if spec.pinyin:
                for s in sounds[i]:
                    post("p" + s, i)
            if i + 1 < len(us) and us[i + 1] != BREAK:
                post("c" + u + SEP + us[i + 1], i, i + 1)
                if spec.pinyin:
                    for a in sounds[i]:
                        for b in sounds[i + 1]:
                            post("p" + a + SEP + b, i, i + 1)
        if spec.initials:
            self._whole_keys(spec, us, post)
        return tuple(frozenset(f) for f in found)

    def _whole_keys(self, spec: Field, us: list[str], post: _Post) -> None:
        plain = [u for u in us if u != BREAK]
        joined = "".join(plain)
        context = context_readings(joined) if len(joined) == len(plain) else ()
        sounds = [self.fuzzy.fold(r) for r in context] if context else [self.fuzzy.fold(u) for u in plain]
        post("x" + joined)
        post("y" + SEP.join(sounds))
        initials = ""
        for u, r in zip(plain, context or plain, strict=False):
            if is_han(u):
                initials += r[0]
            elif initials:
                self._post_initials(initials, post)
                initials = ""
        self._post_initials(initials, post)
        han = "".join(r[0] for u, r in zip(plain, context or plain, strict=False) if is_han(u))
        if han:
            post("z" + han)

    @staticmethod
    def _post_initials(initials: str, post: _Post) -> None:
        for n in (1, 2, 3):
            for i in range(len(initials) - n + 1):
                post("i" + initials[i : i + n])

    # ------------------------------------------------------------------ queries

    def analyse(self, query: str) -> list[list[Term]]:
        return analyse(query, self.vocabulary, self.fuzzy)

    def search(self, query: str, *, limit: int | None = None, memo: bool = True) -> list[Hit]:
        """Documents best first (at least one slot matched)."""
        memo_key = query[:256]
        hits = self._memo.get(memo_key) if memo else None
        if hits is None:
            hits = self._search(self.analyse(query))
            if not memo:
                return hits[:limit] if limit is not None else hits
            self._memo[memo_key] = hits
            if len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        else:
            self._memo.move_to_end(memo_key)
        return hits[:limit] if limit is not None else list(hits)

    def _search(self, plans: list[list[Term]]) -> list[Hit]:
        best: dict[str, float] = {}
        fields: dict[str, tuple[float, str]] = {}
        for terms in plans:
            total: dict[str, float] = {}
            for term in terms:
                for key, score in self._term_scores(term, fields).items():
                    total[key] = total.get(key, 0.0) + score
            for key, score in total.items():
                if score > best.get(key, 0.0):
                    best[key] = score
        docs = self._docs
        ranked = sorted(
            best.items(),
            key=lambda e: (-(e[1] + POPULARITY_WEIGHT * math.log1p(docs[e[0]].popularity)), docs[e[0]].order),
        )
        return [Hit(k, s, fields[k][1]) for k, s in ranked]

    def _idf(self, df: int) -> float:
        n = len(self._docs)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def _term_scores(self, term: Term, fields: dict[str, tuple[float, str]]) -> dict[str, float]:
        postings = self._postings
        out: dict[str, float] = {}
        for reading in term.readings:
            scores: dict[str, float] = {}
            for slot in reading.slots:
                slot_best: dict[str, float] = {}
                for g, factor in slot.keys:
                    posting = postings.get(g)
                    if not posting:
                        continue
                    idf = self._idf(len(posting)) * factor
                    for key, (weight, field_name) in posting.items():
                        value = idf * weight
                        if value > slot_best.get(key, 0.0):
                            slot_best[key] = value
                            known = fields.get(key)
                            if known is None or known[0] < weight:
                                fields[key] = (weight, field_name)
                for key, value in slot_best.items():
                    scores[key] = scores.get(key, 0.0) + value
            for g in reading.whole:
                for key in postings.get(g, ()):
                    if key in scores:
                        scores[key] *= 1 + EXACT_BONUS
            for key, value in scores.items():
                value *= reading.factor
                if value > out.get(key, 0.0):
                    out[key] = value
        return out

    def matched(self, key: str, query: str) -> list[str]:
        """The words of a document's pinyin fields that the query matched, longest runs first
        (what a phone highlights)."""
        doc = self._docs.get(key)
        if doc is None:
            return []
        wanted = {
            g for terms in self.analyse(query) for t in terms for r in t.readings for s in r.slots for g, _ in s.keys
        }
        words: dict[str, None] = {}
        for _, us, per_unit in doc.texts:
            run = ""
            for u, keys in zip(us, per_unit, strict=False):
                if u != BREAK and keys & wanted:
                    run += u
                    continue
                if run:
                    words[run] = None
                run = ""
            if run:
                words[run] = None
        ordered = sorted(words, key=lambda w: -len(w))
        return [w for i, w in enumerate(ordered) if not any(w in longer for longer in ordered[:i])]
