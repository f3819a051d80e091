"""The demo county's org directory, from the source document: 和县 → communities → grids → compounds.

镇淮社区 and 朝阳社区, their grids, the compounds and stations named in the source are real
names from the article; the other twelve urban communities and the unnamed compounds are
placeholders, marked ``placeholder=True``, that make the county's figures (14 communities,
78 stations) add up. No resident names live here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COUNTY_CODE = "hexian"
COUNTY_NAME = "和县"

GRID_NAMES = [
    "第一网格",
    "第二网格",
    "第三网格",
    "第四网格",
    "第五网格",
    "第六网格",
    "第七网格",
    "第八网格",
]


@dataclass(frozen=True)
class Grid:
    code: str
    name: str
    community: str
    number: int


@dataclass(frozen=True)
class Compound:
    code: str
    name: str
    community: str
    grid: str
    buildings: int
    households: int
    placeholder: bool = False


@dataclass(frozen=True)
class Community:
    code: str
    name: str
    grids: tuple[Grid, ...] = field(default_factory=tuple)
    placeholder: bool = False


def _grids(community: str, count: int) -> tuple[Grid, ...]:
    return tuple(Grid(f"{community}-g{n}", GRID_NAMES[n - 1], community, n) for n in range(1, count + 1))


_COMMUNITIES = [
    ("zhenhuai", "镇淮社区", 8, False),
    ("chaoyang", "朝阳社区", 8, False),
    ("liyang", "历阳社区", 4, True),
    ("loushi", "陋室社区", 4, True),
    ("chengdong", "城东社区", 4, True),
    ("chengxi", "城西社区", 4, True),
    ("chengnan", "城南社区", 4, True),
    ("chengbei", "城北社区", 4, True),
    ("hezhou", "和州社区", 4, True),
    ("xiangquan", "香泉社区", 3, True),
    ("jiangbin", "江滨社区", 3, True),
    ("wenchang", "文昌社区", 3, True),
    ("xinqiao", "新桥社区", 3, True),
    ("huayuan", "花园社区", 3, True),
]

COMMUNITIES: tuple[Community, ...] = tuple(
    Community(code, name, _grids(code, grids), placeholder) for code, name, grids, placeholder in _COMMUNITIES
)
COMMUNITY_BY_CODE = {c.code: c for c in COMMUNITIES}
GRID_BY_CODE = {g.code: g for c in COMMUNITIES for g in c.grids}

# 朝阳社区's seven compounds with a station each (five named in the source), then 镇淮社区's.
_NAMED_COMPOUNDS = [
    ("binjiang", "滨江花园", "chaoyang", "chaoyang-g6", 12, 480, False),
    ("shuxiang", "书香华府", "chaoyang", "chaoyang-g3", 10, 420, False),
    ("zhongyang", "中央花园", "chaoyang", "chaoyang-g4", 14, 560, False),
    ("anliang", "安粮学府", "chaoyang", "chaoyang-g5", 9, 360, False),
    ("jingdu", "京都公馆", "chaoyang", "chaoyang-g2", 8, 300, False),
    ("chaoyangxincun", "朝阳新村", "chaoyang", "chaoyang-g1", 16, 640, True),
    ("jinchengyuan", "金城苑", "chaoyang", "chaoyang-g7", 6, 240, True),
    ("zhenhuaiyuan", "镇淮苑", "zhenhuai", "zhenhuai-g1", 8, 320, True),
    ("huaihexincun", "淮河新村", "zhenhuai", "zhenhuai-g2", 10, 400, True),
    ("lishuijiayuan", "丽水家园", "zhenhuai", "zhenhuai-g7", 7, 280, True),
]

_PLACEHOLDER_SUFFIXES = ["家园", "小区", "花苑", "新村", "雅居", "名苑"]


def _all_compounds() -> tuple[Compound, ...]:
    compounds = [Compound(*row) for row in _NAMED_COMPOUNDS]
    # Placeholder compounds so that the county has 78 compounds, each with a station.
    seen = {c.code for c in compounds}
    counts = {c.code: sum(1 for x in compounds if x.community == c.code) for c in COMMUNITIES}
    index = 0
    while len(compounds) < 78:
        community = COMMUNITIES[2 + index % (len(COMMUNITIES) - 2)] if index % 5 else COMMUNITIES[index % 2]
        if community.code == "chaoyang":  # 朝阳 has exactly its 7 stations
            community = COMMUNITY_BY_CODE["zhenhuai"]
        n = counts[community.code] + 1
        counts[community.code] = n
        code = f"{community.code}-c{n}"
        if code in seen:
            index += 1
            continue
        seen.add(code)
        grid = community.grids[(n - 1) % len(community.grids)]
        name = f"{community.name[:2]}{_PLACEHOLDER_SUFFIXES[n % len(_PLACEHOLDER_SUFFIXES)]}{n}期"
        compounds.append(Compound(code, name, community.code, grid.code, 4 + n % 6, 160 + 20 * (n % 9), True))
        index += 1
    return tuple(compounds)


COMPOUNDS: tuple[Compound, ...] = _all_compounds()
COMPOUND_BY_CODE = {c.code: c for c in COMPOUNDS}
