"""Source profiles: how one platform's export maps onto the input contract.

A profile is a YAML file in data/profiles/ (see its README.md). It says which files it reads
(globs on the file name), which contract tables those files feed, where each contract column
comes from, how the platform's words translate to ours, and which time formats it writes.
The contract itself is the default profile: `<table>_*` files whose headers are the contract's
column names.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipelines.contract import Table, load_contract

DEFAULT_PROFILE = "default"

# Always understood, whatever a profile adds: ISO-like forms most systems write.
ISO_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


@dataclass(frozen=True)
class TableMapping:
    """How a profile's files feed one contract table."""

    table: str
    files: tuple[str, ...]
    # contract column -> source spec: a header name, or {split|join|first_of: ...}
    columns: dict[str, object] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)

    def claims(self, file_name: str) -> bool:
        name = file_name.casefold()
        return any(fnmatch.fnmatchcase(name, pattern.casefold()) for pattern in self.files)

    def source_of(self, column: str) -> object:
        """The source spec of a contract column; by default a header of the same name."""
        return self.columns.get(column, column)


@dataclass(frozen=True)
class SourceProfile:
    name: str
    description: str
    encoding: str | None
    time_formats: tuple[str, ...]
    tables: dict[str, TableMapping]

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_PROFILE


def _as_tuple(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)


def _string_map(mapping: dict | None) -> dict[str, str]:
    # YAML reads `是: true` as a boolean; the contract compares text, so keep text.
    def text(value: object) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    return {text(key): text(value) for key, value in (mapping or {}).items()}


def _table_mapping(name: str, spec: dict, default_files: tuple[str, ...]) -> TableMapping:
    files = _as_tuple(spec.get("files")) or default_files
    return TableMapping(
        table=name,
        files=tuple(pattern.replace("{table}", name) for pattern in files),
        columns=dict(spec.get("columns") or {}),
        values={column: _string_map(words) for column, words in (spec.get("values") or {}).items()},
        constants=_string_map(spec.get("constants")),
    )


def parse_profile(document: dict, name: str, contract: dict[str, Table]) -> SourceProfile:
    default_files = _as_tuple(document.get("files"))
    tables_spec = document.get("tables") or {}
    if tables_spec == "all":
        tables_spec = {table: {} for table in contract}
    unknown = sorted(set(tables_spec) - set(contract))
    if unknown:
        raise ValueError(f"profile {name!r} names tables the contract lacks: {unknown}")
    return SourceProfile(
        name=str(document.get("name") or name),
        description=str(document.get("description") or ""),
        encoding=document.get("encoding"),
        time_formats=_as_tuple(document.get("time_formats")) + ISO_TIME_FORMATS,
        tables={
            table: _table_mapping(table, spec or {}, default_files)
            for table, spec in tables_spec.items()
        },
    )


def load_profiles(profiles_dir: Path) -> list[SourceProfile]:
    """Every profile in the folder, specific ones first so the default only takes the rest."""
    contract = load_contract()
    profiles = [
        parse_profile(yaml.safe_load(path.read_text("utf-8")) or {}, path.stem, contract)
        for path in sorted(profiles_dir.glob("*.yml"))
    ]
    return sorted(profiles, key=lambda profile: (profile.is_default, profile.name))


def profile_for(
    file_path: Path, domain: str, profiles: list[SourceProfile]
) -> SourceProfile | None:
    """The first profile that claims this file for a table of its domain, if any."""
    contract = load_contract()
    for profile in profiles:
        for mapping in profile.tables.values():
            if contract[mapping.table].domain == domain and mapping.claims(file_path.name):
                return profile
    return None
