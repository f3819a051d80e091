"""Search API shapes: open reports, misses, alias-from-miss."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from doorstep_shared.types import RedactedText

from ..inputs import Code, Input


class SearchOpened(Input):
    """The client says which item a worker opened from a search's results."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"search_id": "3f2a9c1e7b4d4e0f8a6b5c4d3e2f1a0b", "code": "elderly-allowance"}]}
    )

    search_id: str = Field(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")
    code: Code


class Miss(BaseModel):
    query: RedactedText = Field(description="The query as searched (canonical form, personal numbers masked)")
    searches: int
    found_nothing: int
    not_opened: int = Field(description="Searches that found something but nothing was opened from them")
    last_at: dt.datetime


class MissPage(BaseModel):
    since: dt.datetime
    misses: list[Miss]


class AliasFromMiss(Input):
    """Make a missed query an alias of an item (and take it off the misses list)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"query": "八十岁补贴", "item": "elderly-allowance", "reason": "搜索未命中，加为别名"}]
        }
    )

    query: str = Field(min_length=1, max_length=50)
    item: Code
    reason: str = Field(default="搜索未命中，加为别名", min_length=1, max_length=500)


class AliasAdded(BaseModel):
    item: str
    alias: RedactedText
    aliases: list[str]
    version: int
    resolved: int = Field(description="Missed searches marked resolved")
