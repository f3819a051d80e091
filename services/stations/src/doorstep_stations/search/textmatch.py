"""Keyword matching for station search: Chinese characters, full pinyin and pinyin initials.

Built on the shared matcher (``doorstep_shared.textsearch``): ``书香``, ``shuxiang``, ``sx``
and ``裁缝``/``caifeng``/``cfp`` all find 书香华府's station. Building the pinyin index costs
tens of milliseconds for the county's stations, so indexes are cached by their content: a
change to a station or service name makes a new one. The snapshot (``snapshot/``) builds one
index of every station per revision and directory instead (``station_index``): a document's
score depends on that document alone, so the stations a query narrowed to score the same in it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from doorstep_shared.textsearch import FieldSpec, TextIndex, build_index

FIELDS = (
    FieldSpec("name", 3.0, pinyin=True),
    FieldSpec("services", 2.0, pinyin=True),
    FieldSpec("other", 1.0),
)

Doc = tuple[str, dict[str, tuple[str, ...]]]
_CACHE: OrderedDict[tuple[object, ...], TextIndex] = OrderedDict()
_CACHE_SIZE = 32


def _key(docs: Sequence[Doc]) -> tuple[object, ...]:
    return tuple((code, tuple(sorted(fields.items()))) for code, fields in docs)


def station_index(docs: Sequence[Doc]) -> TextIndex:
    return build_index(FIELDS, docs)


def scores_in(index: TextIndex, query: str) -> dict[str, float]:
    """Matching document keys with their scores (higher is better)."""
    return {hit.key: hit.score for hit in index.search(query)}


def keyword_scores(query: str, docs: Sequence[Doc]) -> dict[str, float]:
    """Matching document keys with their scores (higher is better), from an index of ``docs``."""
    key = _key(docs)
    index = _CACHE.get(key)
    if index is None:
        index = station_index(docs)
        _CACHE[key] = index
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return scores_in(index, query)
