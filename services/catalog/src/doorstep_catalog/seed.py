"""Demo data for the catalog (idempotent: a second run changes nothing)."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Category

CATEGORIES = [
    ("party-league", "党团组织", "党组织关系、团组织关系转接等"),
    ("family-birth", "计生与家庭", "生育登记、独生子女光荣证等"),
    ("disability", "残疾人服务", "残疾证办理、残疾人补贴等"),
    ("employment-social-security", "就业与社保", "“4050”补贴、养老金领取与认证等"),
    ("elderly-livelihood", "养老与民生保障", "高龄补贴、低保、廉租房等"),
]


async def seed(session: AsyncSession) -> None:
    existing = set((await session.exec(select(Category.code))).all())
    for position, (code, name, description) in enumerate(CATEGORIES):
        if code not in existing:
            session.add(Category(code=code, name=name, description=description, position=position))
