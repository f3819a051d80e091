"""Pinyin for search: the readings of a character, fuzzy folding of dialect pairs, and typed
pinyin split into syllables ("gaoningbutie" → gao ning bu tie)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pypinyin import Style, lazy_pinyin, pinyin

# Every toneless Mandarin syllable in pypinyin's dictionary (ü written v), generated once from
# it and kept here: deriving it at start-up costs over a second.
SYLLABLES = frozenset(
    (  # noqa: SIM905 (a list this long reads better as words)
        "a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong bu ca cai "
        "can cang cao ce cei cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai "
        "chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de dei den deng di "
        "dia dian diao die din ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang fei fen feng "
        "fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo ha "
        "hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo ji jia jian jiang jiao "
        "jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken keng kong kou ku kua kuai "
        "kuan kuang kui kun kuo la lai lan lang lao le lei len leng li lia lian liang liao lie lin ling liu "
        "lo long lou lu luan lun luo lv lve ma mai man mang mao me mei men meng mi mian miao mie min ming "
        "miu mo mou mu na nai nan nang nao ne nei nen neng ni nia nian niang niao nie nin ning niu nong nou "
        "nu nuan nun nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi "
        "qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru "
        "rua ruan rui run ruo sa sai san sang sao se sen seng sha shai shan shang shao she shei shen sheng "
        "shi shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta tai tan tang "
        "tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo "
        "wong wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan yang yao ye yi yin "
        "ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe "
        "zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui "
        "zun zuo "
    ).split()
) | {"lue", "nue"}
_LONGEST = max(len(s) for s in SYLLABLES)

# The merges people make when typing pinyin in much of southern and central China (Jianghuai
# Mandarin included): each pair, when enabled, folds to one key on both sides of a match.
FUZZY_PAIRS = ("n-l", "zh-z", "ch-c", "sh-s", "an-ang", "en-eng", "in-ing")


@dataclass(frozen=True)
class FuzzyPinyin:
    """Which dialect pairs count as the same sound (a setting; FuzzyPinyin(()) is exact)."""

    pairs: tuple[str, ...] = FUZZY_PAIRS

    def __post_init__(self) -> None:
        unknown = set(self.pairs) - set(FUZZY_PAIRS)
        if unknown:
            raise ValueError(f"unknown fuzzy pinyin pairs: {sorted(unknown)}")

    def fold(self, syllable: str) -> str:
        return _fold(syllable, self.pairs)


@functools.lru_cache(maxsize=8192)
def _fold(syllable: str, pairs: tuple[str, ...]) -> str:
    s = syllable
    if "zh-z" in pairs and s.startswith("zh"):
        s = "z" + s[2:]
    elif "ch-c" in pairs and s.startswith("ch"):
        s = "c" + s[2:]
    elif "sh-s" in pairs and s.startswith("sh"):
        s = "s" + s[2:]
    elif "n-l" in pairs and s.startswith("n") and len(s) > 1:
        s = "l" + s[1:]
    if (
        ("an-ang" in pairs and s.endswith("ang"))
        or ("en-eng" in pairs and s.endswith("eng"))
        or ("in-ing" in pairs and s.endswith("ing"))
    ):
        s = s[:-1]
    return s


def is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


@functools.lru_cache(maxsize=16384)
def readings(ch: str) -> tuple[str, ...]:
    """A character's toneless readings, the most common first (ü as v)."""
    found = pinyin(ch, style=Style.NORMAL, heteronym=True)[0]
    return tuple(dict.fromkeys(r.replace("ü", "v") for r in found if r.isascii() and r.isalpha()))


_one_per_character: Any = list  # pypinyin: other characters back one per item


@functools.lru_cache(maxsize=65536)
def context_readings(text: str) -> tuple[str, ...]:
    """One reading per character, chosen from the phrase it sits in (重度 → zhong du); other
    characters come back as they are."""
    out = lazy_pinyin(text, errors=_one_per_character)
    return tuple(r.replace("ü", "v") for r in out) if len(out) == len(text) else tuple(text)


@functools.lru_cache(maxsize=4096)
def split_syllables(letters: str) -> tuple[str, ...] | None:
    """Typed pinyin as whole syllables, the fewest that cover it (xian stays one), or
    None when it is not pinyin (gl, cjrlxbt: initials)."""
    n = len(letters)
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[0] = ()
    for i in range(n):
        start = best[i]
        if start is None:
            continue
        for j in range(min(n, i + _LONGEST), i, -1):
            piece = letters[i:j]
            if piece in SYLLABLES:
                candidate = (*start, piece)
                known = best[j]
                if known is None or len(candidate) < len(known):
                    best[j] = candidate
    return best[n]
