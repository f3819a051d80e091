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
query until the next change. A query whose keys are all common scores at most
``MAX_CANDIDATES`` documents (``_candidates``): its cost stays flat as the index grows.
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .phonetics import FuzzyPinyin, is_han, readings
from .query import FILLERS, SEP, Term, Vocabulary, analyse
from .text import BREAK, canonical, units

EXACT_BONUS = 0.6
COVERAGE_POWER = 2.0
POPULARITY_WEIGHT = 1e-4  # enough to order ties, never enough to beat a better match
MEMO_SIZE = 512
MAX_CANDIDATES = 100
_K1, _B = 1.2, 0.6


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
    texts: tuple[tuple[str, tuple[str, ...]], ...]  # (field, units) of pinyin fields, to highlight
    popularity: float

    @property
    def tie_break(self) -> float:
        return POPULARITY_WEIGHT * math.log1p(self.popularity)


def _entries(
    posting: dict[str, tuple[float, str]], candidates: set[str] | None
) -> Iterable[tuple[str, tuple[float, str]]]:
    """A posting's entries, only the candidates' when there are candidates (walking the
    shorter of the two)."""
    if candidates is None:
        return posting.items()
    if len(posting) > len(candidates):
        return [(k, e) for k in candidates if (e := posting.get(k)) is not None]
    return [(k, e) for k, e in posting.items() if k in candidates]


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
        self._sound_cache: dict[str, tuple[str, ...]] = {}
        self._tops: dict[str, list[str]] = {}  # a long posting's best documents (``_top``)

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
        texts: list[tuple[str, tuple[str, ...]]] = []
        for name, raw in values.items():
            spec = self.fields.get(name)
            if spec is None:
                raise KeyError(f"unknown field {name!r}")
            for text in [raw] if isinstance(raw, str) else raw:
                us = units(canonical(text))
                if not us:
                    continue
                weight = spec.weight * _length_factor(sum(u != BREAK for u in us), spec.typical_length)
                entry = (weight, spec.name)
                for g in self._text_keys(spec, us):
                    known = grams.get(g)
                    if known is None or known[0] < weight:
                        grams[g] = entry
                if spec.words:
                    words.append(tuple(u for u in us if u != BREAK))
                if spec.pinyin:
                    texts.append((name, tuple(us)))
        postings = self._postings
        tops = self._tops
        for g, scored in grams.items():
            if tops:
                tops.pop(g, None)
            posting = postings.get(g)
            if posting is None:
                postings[g] = {key: scored}
            else:
                posting[key] = scored
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
            self._tops.clear()

    def _unpost(self, key: str, doc: _Doc) -> None:
        for g in doc.keys:
            self._tops.pop(g, None)
            posting = self._postings.get(g)
            if posting is not None:
                posting.pop(key, None)
                if not posting:
                    del self._postings[g]
        for w in doc.words:
            self.vocabulary.words[w] -= 1
            if self.vocabulary.words[w] <= 0:
                del self.vocabulary.words[w]

    def _sounds(self, unit: str) -> tuple[str, ...]:
        found = self._sound_cache.get(unit)
        if found is None:
            if is_han(unit):
                found = tuple(dict.fromkeys(self.fuzzy.fold(r) for r in readings(unit) or (unit,)))
            else:
                found = (unit,) if unit != BREAK else ()
            self._sound_cache[unit] = found
        return found

    def _unit_keys(self, spec: Field, us: Sequence[str]) -> Iterator[tuple[str, int, int]]:
        """(key, first unit, last unit) of every character and pair key of one text."""
        sounds = [self._sounds(u) for u in us] if spec.pinyin else []
        last = len(us) - 1
        for i, u in enumerate(us):
            if u == BREAK:
                continue
            yield "c" + u, i, i
            paired = i < last and us[i + 1] != BREAK
            if paired:
                yield "c" + u + SEP + us[i + 1], i, i + 1
            if spec.pinyin:
                for a in sounds[i]:
                    yield "p" + a, i, i
                    if paired:
                        for b in sounds[i + 1]:
                            yield "p" + a + SEP + b, i, i + 1

    def _text_keys(self, spec: Field, us: list[str]) -> set[str]:
        keys = {g for g, _, _ in self._unit_keys(spec, us)}
        if spec.initials:
            keys.update(self._whole_keys(us))
        return keys

    def _whole_keys(self, us: list[str]) -> Iterator[str]:
        """The whole text (characters, syllables, initials) and its initials' n-grams. The
        most common reading of each character: pypinyin's phrase lookup would cost ~100x."""
        plain = [u for u in us if u != BREAK]
        yield "x" + "".join(plain)
        yield "y" + SEP.join(self._sounds(u)[0] if self._sounds(u) else u for u in plain)
        han = ""
        run = ""
        for u in [*plain, ""]:
            if u and is_han(u):
                first = readings(u)
                run += first[0][0] if first else u
                continue
            if run:
                yield "i" + run[0]  # one letter: a run's first only (b → 补贴, not every b)
            for n in (2, 3):
                for k in range(len(run) - n + 1):
                    yield "i" + run[k : k + n]
            han += run
            run = ""
        if han:
            yield "z" + han

    # ------------------------------------------------------------------ queries

    def analyse(self, query: str) -> list[list[Term]]:
        return analyse(query, self.vocabulary, self.fuzzy)

    def search(self, query: str, *, limit: int | None = None, memo: bool = True) -> list[Hit]:
        """Documents best first (at least one slot matched)."""
        memo_key = query[:256]
        hits = self._memo.get(memo_key) if memo else None
        if hits is None:
            plans = self.analyse(query)
            hits = self._search(plans, self._candidates(plans))
            if not memo:
                return hits[:limit] if limit is not None else hits
            self._memo[memo_key] = hits
            if len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        else:
            self._memo.move_to_end(memo_key)
        return hits[:limit] if limit is not None else list(hits)

    def _candidates(self, plans: list[list[Term]]) -> set[str] | None:
        """The documents worth scoring, or None for all that match. When the query's postings
        are long: whole postings of its rarest keys while they fit in ``MAX_CANDIDATES`` (a
        document matching only common keys would rank low anyway), then the best of the next
        key by static rank (``_top``) up to the cap — so a common key alone (one letter, one
        character, a phrase of common words) costs ``MAX_CANDIDATES``, not its thousands of
        documents — and the documents a term names exactly. Keeps a query's cost bounded at
        thousands of documents, like Typesense's candidate limit."""
        postings = self._postings
        keyed = [
            (g, p)
            for g in {g for terms in plans for t in terms for r in t.readings for sl in r.slots for g, _ in sl.keys}
            if (p := postings.get(g))
        ]
        if sum(len(p) for _, p in keyed) <= MAX_CANDIDATES * 2:
            return None
        keyed.sort(key=lambda e: (len(e[1]), e[0]))  # "c" (characters) before "p" (sounds)
        found: set[str] = set()
        for g, p in keyed:
            if len(found) + len(p) <= MAX_CANDIDATES:
                found.update(p)
                continue
            for k in self._top(g):
                if len(found) >= MAX_CANDIDATES:
                    break
                found.add(k)
            break
        for terms in plans:
            for t in terms:
                for r in t.readings:
                    for g in r.whole:
                        exact = postings.get(g)
                        if exact and len(exact) <= MAX_CANDIDATES:
                            found.update(exact)
        return found

    def _top(self, key: str) -> list[str]:
        """The ``MAX_CANDIDATES`` documents of a long posting that a query of this key alone
        would rank first: by posting weight, then popularity, then insertion order. Kept until
        the posting (or a popularity) changes."""
        top = self._tops.get(key)
        if top is None:
            docs = self._docs
            ranked = heapq.nsmallest(
                MAX_CANDIDATES,
                self._postings[key].items(),
                key=lambda e: (-e[1][0], -docs[e[0]].popularity, docs[e[0]].order),
            )
            top = self._tops[key] = [k for k, _ in ranked]
        return top

    def _search(self, plans: list[list[Term]], candidates: set[str] | None) -> list[Hit]:
        best: dict[str, float] = {}
        fields: dict[str, tuple[float, str]] = {}
        for terms in plans:
            total: dict[str, float] = {}
            covered: dict[str, float] = {}
            for term in terms:
                for key, (score, fraction) in self._term_scores(term, fields, candidates).items():
                    total[key] = total.get(key, 0.0) + score
                    covered[key] = covered.get(key, 0.0) + term.share * fraction
            for key, score in total.items():
                # Coverage: a document matching all of the query beats one matching a rare part
                # of it very well (the words-first rule of Meilisearch and Typesense, softened).
                score *= min(covered[key], 1.0) ** COVERAGE_POWER
                if score > best.get(key, 0.0):
                    best[key] = score
        docs = self._docs
        ranked = sorted(best.items(), key=lambda e: (-(e[1] + docs[e[0]].tie_break), docs[e[0]].order))
        return [Hit(k, s, fields[k][1]) for k, s in ranked]

    def _idf(self, df: int) -> float:
        n = len(self._docs)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def _term_scores(
        self, term: Term, fields: dict[str, tuple[float, str]], candidates: set[str] | None = None
    ) -> dict[str, tuple[float, float]]:
        """Per document: the term's score (best reading) and the part of its slots matched."""
        postings = self._postings
        out: dict[str, tuple[float, float]] = {}
        for reading in term.readings:
            scores: dict[str, float] = {}
            hits: dict[str, int] = {}
            for slot in reading.slots:
                if len(slot.keys) == 1:  # one key (initials, a digit run): no best-of to keep
                    self._add_slot(slot.keys[0], scores, hits, fields, candidates)
                    continue
                slot_best: dict[str, tuple[float, str]] = {}
                for g, factor in slot.keys:
                    posting = postings.get(g)
                    if not posting:
                        continue
                    idf = self._idf(len(posting)) * factor
                    for key, (weight, field_name) in _entries(posting, candidates):
                        value = idf * weight
                        known = slot_best.get(key)
                        if known is None or value > known[0]:
                            slot_best[key] = (value, field_name)
                for key, (value, field_name) in slot_best.items():
                    scores[key] = scores.get(key, 0.0) + value
                    hits[key] = hits.get(key, 0) + 1
                    seen = fields.get(key)
                    if seen is None or seen[0] < value:
                        fields[key] = (value, field_name)
            # A term equal to a whole name or alias earns the bonus once, in proportion to how
            # much of the query it is (a fragment equal to a short alias must not win alone).
            exact = {key for g in reading.whole for key in postings.get(g, ()) if key in scores}
            for key in exact:
                scores[key] *= 1 + EXACT_BONUS * term.share
            slots = len(reading.slots) or 1
            for key, value in scores.items():
                value *= reading.factor
                if value > out.get(key, (0.0, 0.0))[0]:
                    out[key] = (value, hits[key] / slots)
        return out

    def _add_slot(
        self,
        keyed: tuple[str, float],
        scores: dict[str, float],
        hits: dict[str, int],
        fields: dict[str, tuple[float, str]],
        candidates: set[str] | None,
    ) -> None:
        posting = self._postings.get(keyed[0])
        if not posting:
            return
        idf = self._idf(len(posting)) * keyed[1]
        for key, (weight, field_name) in _entries(posting, candidates):
            value = idf * weight
            scores[key] = scores.get(key, 0.0) + value
            hits[key] = hits.get(key, 0) + 1
            seen = fields.get(key)
            if seen is None or seen[0] < value:
                fields[key] = (value, field_name)

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
        for name, us in doc.texts:
            lit = [False] * len(us)
            for g, first, last in self._unit_keys(self.fields[name], us):
                if g in wanted:
                    lit[first] = lit[last] = True
            run = ""
            for u, on in zip([*us, BREAK], [*lit, False], strict=True):
                if on and u != BREAK:
                    run += u
                    continue
                if run:
                    words[run] = None
                run = ""
        ordered = sorted(words, key=lambda w: -len(w))
        return [w for i, w in enumerate(ordered) if not any(w in longer for longer in ordered[:i])]
