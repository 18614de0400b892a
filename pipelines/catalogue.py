"""The exception catalogue: every sub-type, family, root cause and rule input, once.

The dbt seeds under dbt_project/seeds/ are the catalogue (dbt builds dim_exception_types and
the union of the rules from them); the generator, the dashboard and the merchant reports read
the same files here. Adding a rule is its SQL, one row in exception_catalogue.csv and its unit
test: nothing else lists sub-types or families.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipelines.settings import DBT_PROJECT_DIR

SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
LANGUAGES = ("zh-CN", "en")
KINDS = ("failure", "special_request")
# The dimensions a change can be explained by, and the column of the facts holding each.
DIMENSIONS = ("merchant", "warehouse", "channel", "carrier", "province", "sku", "payment_method")


def _suffix(language: str) -> str:
    return "zh" if language.startswith("zh") else "en"


@dataclass(frozen=True)
class ExceptionType:
    code: str
    family: str
    kind: str
    priority: str
    sla_hours: float
    sla_measures: str
    owner_team: str
    root_cause: str
    recurrence_key: str
    inputs: tuple[str, ...]
    explained_by: tuple[str, ...]
    names: dict[str, str]
    actions: dict[str, str]
    guidelines: dict[str, str]

    @property
    def is_failure(self) -> bool:
        return self.kind == "failure"


@dataclass(frozen=True)
class Family:
    code: str
    kind: str
    display_order: int
    observation_days: float
    colour: str
    names: dict[str, str]


@dataclass(frozen=True)
class RootCause:
    code: str
    owner_team: str
    names: dict[str, str]
    actions: dict[str, str]


@dataclass(frozen=True)
class RuleInput:
    code: str
    source_table: str
    evidence: str
    names: dict[str, str]
    what_it_is: str


def _rows(name: str, seeds_dir: Path) -> list[dict[str, str]]:
    with (seeds_dir / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(";") if part.strip())


def _by_language(row: dict[str, str], prefix: str) -> dict[str, str]:
    return {language: row[f"{prefix}_{_suffix(language)}"] for language in LANGUAGES}


@cache
def exception_types(seeds_dir: Path = SEEDS_DIR) -> dict[str, ExceptionType]:
    """Every sub-type, in catalogue order, keyed by code."""
    return {
        row["exception_type"]: ExceptionType(
            code=row["exception_type"],
            family=row["family"],
            kind=row["kind"],
            priority=row["priority"],
            sla_hours=float(row["sla_hours"]),
            sla_measures=row["sla_measures"],
            owner_team=row["owner_team"],
            root_cause=row["root_cause"],
            recurrence_key=row["recurrence_key"],
            inputs=_list(row["inputs"]),
            explained_by=_list(row["explained_by"]),
            names=_by_language(row, "name"),
            actions=_by_language(row, "action"),
            guidelines=_by_language(row, "guideline"),
        )
        for row in _rows("exception_catalogue", seeds_dir)
    }


@cache
def families(seeds_dir: Path = SEEDS_DIR) -> dict[str, Family]:
    """Every family, in display order."""
    rows = sorted(_rows("exception_families", seeds_dir), key=lambda r: int(r["display_order"]))
    return {
        row["family"]: Family(
            code=row["family"],
            kind=row["kind"],
            display_order=int(row["display_order"]),
            observation_days=float(row["observation_days"]),
            colour=row["colour"],
            names=_by_language(row, "name"),
        )
        for row in rows
    }


@cache
def root_causes(seeds_dir: Path = SEEDS_DIR) -> dict[str, RootCause]:
    return {
        row["root_cause"]: RootCause(
            code=row["root_cause"],
            owner_team=row["owner_team"],
            names=_by_language(row, "name"),
            actions=_by_language(row, "action"),
        )
        for row in _rows("root_causes", seeds_dir)
    }


@cache
def rule_inputs(seeds_dir: Path = SEEDS_DIR) -> dict[str, RuleInput]:
    return {
        row["input"]: RuleInput(
            code=row["input"],
            source_table=row["source_table"],
            evidence=row["evidence"],
            names=_by_language(row, "name"),
            what_it_is=row["what_it_is"],
        )
        for row in _rows("exception_inputs", seeds_dir)
    }


def family_codes() -> tuple[str, ...]:
    return tuple(families())


def check_catalogue(seeds_dir: Path = SEEDS_DIR) -> list[str]:
    """What is inconsistent in the catalogue, in words (empty when it is sound)."""
    problems = []
    types = exception_types(seeds_dir)
    known_families = families(seeds_dir)
    causes = root_causes(seeds_dir)
    inputs = rule_inputs(seeds_dir)
    for code, kind in types.items():
        if kind.family not in known_families:
            problems.append(f"{code}: family {kind.family!r} is not in exception_families.csv")
        elif known_families[kind.family].kind != kind.kind:
            problems.append(f"{code}: kind {kind.kind!r} differs from its family's")
        if kind.kind not in KINDS:
            problems.append(f"{code}: kind {kind.kind!r} is not one of {', '.join(KINDS)}")
        if kind.root_cause not in causes:
            problems.append(f"{code}: root cause {kind.root_cause!r} is not in root_causes.csv")
        problems += [
            f"{code}: input {name!r} is not in exception_inputs.csv"
            for name in kind.inputs
            if name not in inputs
        ]
        problems += [
            f"{code}: dimension {name!r} is not one of {', '.join(DIMENSIONS)}"
            for name in kind.explained_by
            if name not in DIMENSIONS
        ]
    return problems
