"""Search for short Chinese documents the way people type: phrases, pinyin (fuzzy, initials,
mixed), homophone slips, traditional characters; ranked by field, coverage and rarity."""

from .index import EXACT_BONUS, Field, Hit, SearchIndex
from .phonetics import FUZZY_PAIRS, FuzzyPinyin
from .query import FILLERS, MAX_QUERY_CHARS, Term, analyse
from .text import canonical

__all__ = [
    "EXACT_BONUS",
    "FILLERS",
    "FUZZY_PAIRS",
    "MAX_QUERY_CHARS",
    "Field",
    "FuzzyPinyin",
    "Hit",
    "SearchIndex",
    "Term",
    "analyse",
    "canonical",
]
