"""The ranked index on its own: query understanding, fuzzy pinyin, ranking, incremental
updates, highlighting, and that any string is safe."""

from __future__ import annotations

import pytest

from doorstep_shared.search import Field, FuzzyPinyin, SearchIndex, canonical

FIELDS = [
    Field("name", 5.0, 6, pinyin=True, initials=True, words=True),
    Field("alias", 4.0, 5, pinyin=True, initials=True, words=True),
    Field("text", 1.0, 20),
]
DOCS = {
    "elderly": {"name": "高龄补贴", "alias": ["高龄津贴"], "text": "年满80周岁的老年人按月领取"},
    "dibao": {"name": "最低生活保障", "alias": ["低保"], "text": "家庭人均收入低于低保标准"},
    "loan": {"name": "创业担保贷款", "alias": ["创业贷款"], "text": "创业者申请贷款"},
    "card": {"name": "社会保障卡申领", "alias": ["社保卡", "社保卡补办"], "text": "申领、补领社会保障卡"},
    "bank": {"name": "银行卡重新绑定", "alias": [], "text": ""},
}


def index(fuzzy: FuzzyPinyin | None = None) -> SearchIndex:
    built = SearchIndex(FIELDS, fuzzy=fuzzy, synonyms=[["老人", "老年人", "高龄"], ["丢了", "补办"]])
    for key, doc in DOCS.items():
        built.upsert(key, doc)
    return built


def first(idx: SearchIndex, q: str) -> str | None:
    hits = idx.search(q)
    return hits[0].key if hits else None


@pytest.mark.parametrize(
    "q",
    [
        "高龄补贴",
        "高齡補貼",
        "ＧＡＯＬＩＮＧ",
        "gao ling",
        "gaoling",
        "gaoningbutie",
        "高令补贴",
        "gl",
        "glbt",
        "gl补贴",
        "高ling",
        "gaol",
    ],
)
def test_elderly_allowance_by_characters_pinyin_slips_and_scripts(q: str) -> None:
    assert first(index(), q) == "elderly"


def test_fillers_synonyms_and_initials_of_a_short_alias() -> None:
    idx = index()
    assert first(idx, "老人有什么补贴") == "elderly"
    assert first(idx, "社保卡丢了怎么办") == "card"
    assert first(idx, "低保怎么申请") == "dibao"
    assert first(idx, "db") == "dibao"  # the whole alias 低保 beats a pair inside 创业担保贷款


def test_fuzzy_pairs_are_a_setting() -> None:
    assert index(FuzzyPinyin(())).matched("elderly", "gaoningbutie") == ["补贴"]  # ning ≠ ling
    assert index(FuzzyPinyin(("n-l", "in-ing"))).matched("elderly", "gaoningbutie") == ["高龄补贴"]
    with pytest.raises(ValueError, match="unknown fuzzy pinyin"):
        FuzzyPinyin(("p-b",))


def test_polyphonic_characters_match_any_reading() -> None:
    idx = index()
    assert first(idx, "chongxin") == "bank"
    assert first(idx, "zhongxin") == "bank"
    assert first(idx, "yinhang") == "bank"


def test_not_every_word_must_match_and_more_matched_words_rank_higher() -> None:
    hits = index().search("社保卡补办贷款")
    assert [h.key for h in hits[:2]] == ["card", "loan"]


def test_upsert_and_remove_change_one_document_in_place() -> None:
    idx = index()
    idx.upsert("elderly", {"name": "尊老金", "alias": [], "text": ""})
    assert first(idx, "高龄补贴") != "elderly"
    assert first(idx, "尊老金") == "elderly"
    idx.remove("elderly")
    assert "elderly" not in idx and len(idx) == len(DOCS) - 1
    assert first(idx, "尊老金") is None


def test_popularity_breaks_ties_only() -> None:
    idx = SearchIndex(FIELDS)
    idx.upsert("a", {"name": "残疾证换领"})
    idx.upsert("b", {"name": "残疾证补办"})
    assert first(idx, "残疾证") == "a"
    idx.set_popularity("b", 40)
    assert first(idx, "残疾证") == "b"
    assert first(idx, "残疾证换领") == "a"


def test_results_say_which_words_matched() -> None:
    idx = index()
    assert idx.matched("elderly", "高令补贴") == ["高龄补贴"]
    assert "社保卡补办" in idx.matched("card", "社保卡丢了")


def test_any_string_is_safe() -> None:
    idx = index()
    for q in ["", "   ", "x" * 5000, "🙂" * 300, "\x00\u200b", "%_'\"; --", "ا", "ﾃｽﾄ", "一二三四五六七八九零" * 20]:
        assert isinstance(idx.search(q), list)
    assert canonical("ＡＢＣ１２３　高齡") == "abc123 高龄"


def test_a_key_hundreds_share_finds_its_best_documents_and_follows_edits() -> None:
    idx = SearchIndex(FIELDS)
    for i in range(600):
        idx.upsert(f"t{i}", {"name": f"事项{i}", "text": "带上身份证原件" if i % 2 == 0 else "带上户口簿原件"})
    idx.upsert("card", {"name": "残疾证换领"})
    hits = idx.search("证")
    assert hits[0].key == "card"  # in a name, among hundreds that have it in their text
    assert len(hits) > 1 and all(h.key.startswith("t") and int(h.key[1:]) % 2 == 0 for h in hits[1:])
    idx.upsert("t500", {"name": "事项500", "text": "身份证"})  # shorter text: now the best of them
    assert [h.key for h in idx.search("证")[:2]] == ["card", "t500"]
    idx.set_popularity("t550", 5)  # the tie among the others goes to the popular one
    assert [h.key for h in idx.search("证")[:3]] == ["card", "t500", "t550"]
    idx.remove("card")
    hits = idx.search("证")
    assert hits[0].key == "t500" and "card" not in {h.key for h in hits}
