"""Deterministic invented residents for the demo county (seeded RNG; no names from the source).

Names come from common surname / given-name character lists; ID numbers are valid GB 11643
numbers of region 340523 (和县) with a correct check character; phones are invented.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from doorstep_shared.clock import local_today
from doorstep_shared.pii import id_number_check_char
from doorstep_shared.rules.vocabulary import DISABILITY_TYPES

REGION = "340523"  # 和县
ANCHOR = dt.date(2026, 1, 1)  # ages are drawn relative to a fixed day, so the data is stable

# Catalogue item codes the demo's benefits use (the catalog service owns the item list).
ELDERLY_ALLOWANCE = "elderly-allowance"
DISABILITY_SUBSIDY = "severe-disability-care-subsidy"
SEVERE_DISABILITY_CARE = "severe-disability-home-care"
PENSION_CLAIM = "pension_claim"
DIBAO = "dibao"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳东海峰建国志文博伦亮成康"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀英华慧巧美玲燕红梅琳雪颖倩婷萍兰凤洁琴云莉佳欣怡悦菲晴璐瑶蓉"

DEMO_COMPOUNDS = (
    "binjiang",
    "shuxiang",
    "zhongyang",
    "anliang",
    "jingdu",
    "chaoyangxincun",
    "jinchengyuan",
    "zhenhuaiyuan",
    "huaihexincun",
    "lishuijiayuan",
)


@dataclass
class DemoResident:
    name: str
    id_number: str
    gender: str
    birth_date: dt.date
    phone: str | None
    compound: str
    building: str
    unit: str
    room: str
    facts: dict[str, Any] = field(default_factory=dict)
    disability_certificate_no: str | None = None
    benefits: dict[str, dt.date | None] = field(default_factory=dict)
    tag: str | None = None  # a story resident the demo relies on


def make_id_number(birth: dt.date, serial: int, gender: str, region: str = REGION) -> str:
    """A valid 18-digit ID number: region, birth date, 3-digit serial (odd = male), check."""
    serial = serial % 1000
    if (serial % 2 == 1) != (gender == "male"):
        serial = (serial + 1) % 1000
    first17 = f"{region}{birth:%Y%m%d}{serial:03d}"
    return first17 + id_number_check_char(first17)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class _Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used_ids: set[str] = set()
        self.used_phones: set[str] = set()

    def name(self, gender: str) -> str:
        given = GIVEN_MALE if gender == "male" else GIVEN_FEMALE
        n = 1 if self.rng.random() < 0.35 else 2
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(given) for _ in range(n))

    def id_number(self, birth: dt.date, gender: str) -> str:
        while True:
            number = make_id_number(birth, self.rng.randrange(1000), gender)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def phone(self) -> str:
        while True:
            prefix = self.rng.choice(("138", "139", "150", "151", "158", "177", "180", "187", "199"))
            number = prefix + f"{self.rng.randrange(10**8):08d}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def age(self) -> int:
        r = self.rng.random()
        if r < 0.18:
            return self.rng.randrange(0, 18)
        if r < 0.62:
            return self.rng.randrange(18, 60)
        if r < 0.90:
            return self.rng.randrange(60, 80)
        return self.rng.randrange(80, 98)

    def maybe(self, value: Any, unknown: float = 0.08) -> Any:
        return None if self.rng.random() < unknown else value

    def resident(self, compound: str, building: str, unit: str, room: str, age: int, alone: bool) -> DemoResident:
        rng = self.rng
        gender = rng.choice(("male", "female"))
        birth = add_years(ANCHOR, -age) - dt.timedelta(days=rng.randrange(1, 365))
        disabled = rng.random() < 0.05
        dtype = rng.choice(DISABILITY_TYPES) if disabled else None
        grade = rng.choice((1, 2, 2, 3, 3, 4, 4)) if disabled else None
        if age < 16:
            employment = "student" if age >= 6 else "none"
        elif age < 23:
            employment = rng.choice(("student", "student", "employed", "flexible"))
        elif age < 60:
            employment = rng.choice(("employed",) * 6 + ("flexible", "flexible", "unemployed", "none"))
        else:
            employment = rng.choice(("retired",) * 5 + ("none",))
        dibao = rng.random() < 0.03
        facts: dict[str, Any] = {
            "hukou_local": self.maybe(rng.random() < 0.9),
            "disability_type": dtype,
            "disability_grade": grade,
            "serious_illness": self.maybe(rng.random() < (0.08 if age >= 60 else 0.01)),
            "living_alone": alone if age >= 18 else False,
            "dibao": self.maybe(dibao),
            "employment_status": self.maybe(employment),
            "pension_insured": self.maybe(rng.random() < 0.85) if age >= 18 else False,
            "children_count": self.maybe(rng.choice((0, 1, 1, 2, 2, 3)) if age >= 25 else 0),
            "housing_difficulty": self.maybe(rng.random() < 0.03),
        }
        number = self.id_number(birth, gender)
        benefits: dict[str, dt.date | None] = {}
        if age >= 80 and rng.random() < 0.85:
            benefits[ELDERLY_ALLOWANCE] = add_years(birth, 80)
        if disabled and grade is not None and grade <= 2 and rng.random() < 0.7:
            benefits[DISABILITY_SUBSIDY] = ANCHOR - dt.timedelta(days=rng.randrange(30, 2000))
        if disabled and grade == 1 and rng.random() < 0.6:
            benefits[SEVERE_DISABILITY_CARE] = ANCHOR - dt.timedelta(days=rng.randrange(30, 2000))
        if dibao and facts["dibao"]:
            benefits[DIBAO] = ANCHOR - dt.timedelta(days=rng.randrange(30, 2000))
        cert = None
        if disabled and dtype is not None and grade is not None:
            cert = f"{number}{DISABILITY_TYPES.index(dtype) + 1}{grade}"
        return DemoResident(
            name=self.name(gender),
            id_number=number,
            gender=gender,
            birth_date=birth,
            phone=self.phone() if age >= 14 and rng.random() < 0.85 else None,
            compound=compound,
            building=building,
            unit=unit,
            room=room,
            facts=facts,
            disability_certificate_no=cert,
            benefits=benefits,
        )


def generate(
    count: int = 3000,
    *,
    seed: int = 20260301,
    today: dt.date | None = None,
    compounds: tuple[str, ...] = DEMO_COMPOUNDS,
    buildings: Mapping[str, int] | None = None,
) -> list[DemoResident]:
    """``count`` invented residents in households across ``compounds`` (plus two story ones);
    ``buildings``: how many buildings each compound has (10 when not said)."""
    maker = _Maker(seed)
    rng = maker.rng
    out: list[DemoResident] = []
    taken: set[tuple[str, str, str, str]] = set()
    while len(out) < count:
        compound = rng.choice(compounds)
        address = (
            compound,
            str(rng.randrange(1, ((buildings or {}).get(compound) or 10) + 1)),
            str(rng.randrange(1, 4)),
            f"{rng.randrange(1, 19)}0{rng.randrange(1, 5)}",
        )
        if address in taken:
            continue
        taken.add(address)
        size = rng.choice((1, 1, 2, 2, 2, 3, 3, 4))
        ages = [maker.age() for _ in range(size)]
        if size == 1 and ages[0] < 18:
            ages[0] += 40
        for age in ages:
            out.append(maker.resident(*address, age, alone=size == 1))
    out = out[:count]
    out.extend(_story_residents(maker, today or local_today()))
    return out


def _story_residents(maker: _Maker, today: dt.date) -> list[DemoResident]:
    """The source's story, with invented names: a grade-2 physical disability at 滨江花园 who does
    not yet receive the disability subsidy, and a 79-year-old turning 80 in three weeks."""
    disabled = maker.resident("binjiang", "6", "2", "502", 56, alone=False)
    disabled.gender = "male"
    disabled.birth_date = dt.date(1969, 9, 14)
    disabled.id_number = maker.id_number(disabled.birth_date, "male")
    disabled.name = maker.name("male")
    disabled.facts.update(
        disability_type="physical",
        disability_grade=2,
        hukou_local=True,
        serious_illness=False,
        dibao=False,
        employment_status="unemployed",
        living_alone=False,
    )
    disabled.disability_certificate_no = f"{disabled.id_number}12"
    disabled.benefits = {}
    disabled.tag = "disability_lead"

    birth = add_years(today + dt.timedelta(days=21), -80)
    turning = maker.resident("binjiang", "3", "1", "301", 79, alone=True)
    turning.gender = "female"
    turning.birth_date = birth
    turning.id_number = maker.id_number(birth, "female")
    turning.name = maker.name("female")
    turning.facts.update(hukou_local=True, living_alone=True, employment_status="retired")
    turning.benefits = {}
    turning.tag = "turning_80"
    return [disabled, turning]
