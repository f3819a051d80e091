"""The generic in-memory index: characters, full pinyin, initials, mixes, ranking, safety."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorstep_shared.textsearch import MAX_QUERY_CHARS, FieldSpec, TextIndex, build_index, normalise

FIELDS = [
    FieldSpec("name", 3, pinyin=True),
    FieldSpec("alias", 2, pinyin=True),
    FieldSpec("text", 1),
]


@pytest.fixture(scope="module")
def index() -> TextIndex:
    return build_index(
        FIELDS,
        [
            (
                "elderly",
                {
                    "name": "高龄补贴",
                    "alias": ["高龄津贴", "尊老金"],
                    "text": "年满80周岁的本县户籍老人",
                },
            ),
            (
                "care",
                {"name": "重度残疾人护理补贴", "alias": ["两项补贴"], "text": "一级、二级残疾人"},
            ),
            ("4050", {"name": "“4050”灵活就业社保补贴", "alias": ["4050补贴"], "text": "女40男50"}),
            (
                "face",
                {"name": "养老金资格认证", "alias": ["刷脸认证"], "text": "高龄老人可上门认证"},
            ),
            ("bank", {"name": "银行卡变更", "alias": [], "text": "Bank card"}),
        ],
    )


def keys(index: TextIndex, q: str) -> list[str]:
    return [h.key for h in index.search(q)]


@pytest.mark.parametrize(
    "q",
    ["高龄", "gl", "gaoling", "gaol", "GAOLING", "gao ling", "高ling", "gao龄", "gl补贴", "glbt"],
)
def test_the_elderly_allowance_is_found_every_way_and_first(index: TextIndex, q: str) -> None:
    assert keys(index, q)[0] == "elderly"


def test_name_beats_alias_beats_text(index: TextIndex) -> None:
    hits = index.search("认证")
    assert [(h.key, h.field) for h in hits] == [("face", "name")]
    hits = index.search("高龄")
    assert [(h.key, h.field) for h in hits] == [("elderly", "name"), ("face", "text")]
    assert index.search("尊老金")[0].field == "alias"
    assert index.search("zunlaojin")[0].field == "alias"


def test_pinyin_only_matches_at_syllable_starts(index: TextIndex) -> None:
    assert keys(index, "aoling") == []  # inside 高 (gao)
    assert keys(index, "lingbutie") == ["elderly"]


def test_polyphonic_characters_match_every_reading(index: TextIndex) -> None:
    assert keys(index, "zhongdu") == ["care"]  # the in-context reading
    assert keys(index, "chongdu") == ["care"]  # another reading of 重
    assert keys(index, "zd") == ["care"]
    assert keys(index, "yinhang") == ["bank"]


def test_digits_and_latin_text_match_as_typed(index: TextIndex) -> None:
    assert keys(index, "4050")[0] == "4050"
    assert keys(index, "BANK") == ["bank"]


def test_limit_and_scores(index: TextIndex) -> None:
    hits = index.search("butie", limit=2)
    assert len(hits) == 2
    assert hits[0].score >= hits[1].score


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(KeyError):
        TextIndex(FIELDS).add("x", {"title": "x"})


def test_normalise_folds_width_case_and_spaces() -> None:
    assert normalise(" ＧＡＯ　Ling ") == "gaoling"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_query_in_any_script_is_safe(q: str) -> None:
    index = build_index(FIELDS, [("a", {"name": "高龄补贴"})])
    hits = index.search(q)
    assert all(h.key == "a" for h in hits)


def test_queries_are_capped(index: TextIndex) -> None:
    assert index.search("高" * (MAX_QUERY_CHARS * 10)) == []


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="gaolinbutiecjr高龄补贴残疾人重度", min_size=1, max_size=6))
def test_short_query_shortcut_agrees_with_verifying_every_document(index: TextIndex, q: str) -> None:
    """Queries of up to 3 characters are answered from scored postings; longer ones by
    verification. Both must give what verifying every document would."""
    from doorstep_shared import textsearch as ts

    expected: dict[str, tuple[float, str]] = {}
    for text, pinyin_only in index._variants(normalise(q)):
        for tag in (ts._FULL, ts._INITIALS) if pinyin_only else (ts._TEXT, ts._FULL, ts._INITIALS):
            for order, fields in enumerate(index._docs):
                found = ts._score(fields, text, tag)
                key = index._keys[order]
                if found is not None and (key not in expected or found[0] > expected[key][0]):
                    expected[key] = found
    got = {h.key: (h.score, h.field) for h in index.search(q, memo=False)}
    assert got.keys() == expected.keys()
    for key, (score, _field) in got.items():
        assert abs(score - expected[key][0]) < 1e-9 or score > expected[key][0]
