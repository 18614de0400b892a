"""The input contract, read from the dbt sources YAML.

The sources YAML under dbt_project/models/staging/<domain>/ documents every input table
(rendered by `dbt docs`); reading it here means ingestion, the generator and the docs
cannot disagree about a column.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from pipelines.settings import DBT_PROJECT_DIR

DOMAINS = ("orders", "stock", "logistics", "feedback")
LINEAGE_COLUMNS = {
    "_source_file": "varchar",
    "_source_line": "bigint",
    "_file_hash": "varchar",
    "_ingested_at": "timestamp",
}


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    description: str
    required: bool
    not_null: bool
    positive: bool
    accepted_values: tuple[str, ...] | None


@dataclass(frozen=True)
class Table:
    name: str
    domain: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    event_time: str | None

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [column.name for column in self.columns if column.required]

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


def _sources_file(domain: str, dbt_project_dir: Path) -> Path:
    return dbt_project_dir / "models" / "staging" / domain / f"_{domain}__sources.yml"


def _parse_column(spec: dict) -> Column:
    meta = spec.get("meta") or {}
    accepted = meta.get("accepted_values")
    return Column(
        name=spec["name"],
        data_type=spec["data_type"],
        description=spec.get("description", ""),
        required=bool(meta.get("required", False)),
        not_null=bool(meta.get("not_null", False)),
        positive=bool(meta.get("positive", False)),
        accepted_values=tuple(accepted) if accepted else None,
    )


@cache
def load_contract(dbt_project_dir: Path = DBT_PROJECT_DIR) -> dict[str, Table]:
    """Every input table of the contract, keyed by table name."""
    tables: dict[str, Table] = {}
    for domain in DOMAINS:
        document = yaml.safe_load(_sources_file(domain, dbt_project_dir).read_text("utf-8"))
        for source in document["sources"]:
            for spec in source["tables"]:
                meta = spec.get("meta") or {}
                tables[spec["name"]] = Table(
                    name=spec["name"],
                    domain=meta.get("domain", domain),
                    description=spec.get("description", ""),
                    columns=tuple(_parse_column(column) for column in spec["columns"]),
                    primary_key=tuple(meta.get("primary_key", [])),
                    event_time=meta.get("event_time"),
                )
    return tables


def tables_of(domain: str) -> list[Table]:
    return [table for table in load_contract().values() if table.domain == domain]
