"""Eligibility API shapes: a resident's facts in, each item's verdict with reasons out."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from doorstep_shared.rules.vocabulary import DISABILITY_TYPES, EMPLOYMENT_STATUSES, GENDERS

from ..inputs import Code, Input


class ResidentFacts(Input):
    """Facts about one resident, named as in the rule vocabulary; leave out what is unknown."""

    age: int | None = Field(default=None, ge=0, le=150)
    birth_date: dt.date | None = Field(default=None, description="Used for age when age is absent")
    gender: Literal[GENDERS] | None = None  # type: ignore[valid-type]
    hukou_local: bool | None = None
    disability_type: Literal[DISABILITY_TYPES] | None = Field(  # type: ignore[valid-type]
        default=None, description="null: no disability (known, so the grade is none too); leave out if unknown"
    )
    disability_grade: int | None = Field(default=None, ge=1, le=4)
    serious_illness: bool | None = None
    living_alone: bool | None = None
    dibao: bool | None = None
    employment_status: Literal[EMPLOYMENT_STATUSES] | None = None  # type: ignore[valid-type]
    pension_insured: bool | None = None
    children_count: int | None = Field(default=None, ge=0, le=20)
    housing_difficulty: bool | None = None
    benefits: list[Annotated[str, StringConstraints(max_length=64)]] | None = Field(default=None, max_length=100)


class EligibilityRequest(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "facts": {
                        "age": 82,
                        "gender": "female",
                        "hukou_local": True,
                        "living_alone": True,
                        "dibao": False,
                        "pension_insured": True,
                    },
                    "items": ["elderly-allowance", "senior-preferential-card", "home-care-service-subsidy", "dibao"],
                }
            ]
        }
    )

    facts: ResidentFacts
    items: list[Code] | None = Field(
        default=None, max_length=100, description="Only these items (default: all published)"
    )


class EligibilityResult(BaseModel):
    code: str
    name: str
    status: Literal["eligible", "not_eligible", "unknown"]
    reasons: list[str]
    missing_facts: list[str]
    missing_labels: list[str]


class EligibilityResponse(BaseModel):
    results: list[EligibilityResult]
    without_rule: list[str] = Field(description="Items whose conditions are not expressed as a rule")
