"""Source profiles: how one platform's export maps onto the input contract.

A profile is a YAML file in data/profiles/ (see its README.md). It says which files it reads,
which contract tables those files feed, where each contract column comes from, how the
platform's words translate to ours, which rows are not rows of a table (skipped, with a
reason), and in which time zone the export writes times without an offset.

Two ways to name files:
- a list of globs (`files: ["{table}_*"]`): each table reads the files of its domain's inbox
  folder that match (the simple exports, and the contract itself: `default.yml`);
- a mapping of names to globs (`files: {orders: "olist_orders*.csv", ...}`): the files of one
  export, anywhere in the inbox; a table reads one of them (`from:`) and may look values up in
  the others (`lookups:`), joined by a key the profile names.

Profiles are validated on load against the schema below: an unknown or misspelt key is an
error naming the file, the key and the nearest valid key.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipelines.contract import Table, load_contract
from pipelines.settings import check_timezone, reporting_timezone

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
# The keys of a column rule; a rule is a header name (text) or a mapping with one of these.
COLUMN_RULES = {
    "first_of": set(),
    "join": {"separator"},
    "split": {"part", "rest", "separator"},
    "sql": set(),
    "value": set(),
}


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file and what to change."""


class ProfileLoader(yaml.SafeLoader):
    """YAML as people write it: only true and false are booleans. (YAML 1.1 also reads on,
    off, yes and no as booleans, which turns a lookup's `on:` key into True.)"""


ProfileLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ProfileLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


# ---------------------------------------------------------------- the schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


Scalar = str | int | float | bool | None


def check_column_rule(rule: object) -> object:
    """A column rule: a header name, or a mapping with exactly one rule key (and its options)."""
    if isinstance(rule, str):
        return rule
    if not isinstance(rule, dict) or not rule:
        raise ValueError(f"a column comes from a header name or a rule, got {rule!r}")
    kinds = [key for key in rule if key in COLUMN_RULES]
    if len(kinds) != 1:
        unknown = [key for key in rule if key not in COLUMN_RULES]
        valid = sorted(COLUMN_RULES)
        if unknown:
            raise ValueError(_unknown_key_message(unknown[0], valid))
        raise ValueError(f"use one of {', '.join(valid)} in a column rule, not {kinds}")
    kind = kinds[0]
    allowed = {kind, *COLUMN_RULES[kind]}
    for key in rule:
        if key not in allowed:
            raise ValueError(_unknown_key_message(key, sorted(allowed)))
    if kind in ("first_of", "join"):
        if not isinstance(rule[kind], list) or not rule[kind]:
            raise ValueError(f"{kind} takes a list of column rules")
        for item in rule[kind]:
            check_column_rule(item)
    if kind == "split":
        check_column_rule(rule["split"])
        if not isinstance(rule.get("part"), int) or rule["part"] < 1:
            raise ValueError("split needs part: a position from 1")
    if kind == "sql" and (not isinstance(rule["sql"], str) or not rule["sql"].strip()):
        raise ValueError("sql takes a DuckDB expression as text")
    if kind == "value" and not isinstance(rule["value"], Scalar):
        raise ValueError("value takes a literal: text, a number, true/false or null")
    return rule


ColumnRule = Annotated[Any, Field(description="a header name or a column rule")]


class SkipRule(_Strict):
    """Rows that are not rows of the table, counted as skipped with the reason."""

    when: str = Field(description="SQL condition over the table's columns (text, empty = null)")
    reason: str


class Branch(_Strict):
    """One of the rows an unpivot makes of each source row."""

    name: str
    columns: dict[str, ColumnRule] = {}
    skip: list[SkipRule] = []

    @field_validator("columns")
    @classmethod
    def _rules(cls, columns: dict) -> dict:
        return {name: check_column_rule(rule) for name, rule in columns.items()}


class Lookup(_Strict):
    """Values from another file of the same export, one row per key."""

    from_: str | None = Field(None, alias="from")
    files: list[str] = []
    sql: str | None = None
    key: str
    on: str | None = None
    aggregate: dict[str, str] = {}


class TableSpec(_Strict):
    files: list[str] | str | None = None
    from_: str | None = Field(None, alias="from")
    lookups: dict[str, Lookup] = {}
    columns: dict[str, ColumnRule] = {}
    constants: dict[str, Scalar] = {}
    values: dict[str, dict[Scalar, Scalar]] = {}
    skip: list[SkipRule] = []
    unpivot: list[Branch] = []

    @field_validator("columns")
    @classmethod
    def _rules(cls, columns: dict) -> dict:
        return {name: check_column_rule(rule) for name, rule in columns.items()}


class ProfileSpec(_Strict):
    version: Literal[1, 2] = 1
    name: str | None = None
    description: str = ""
    encoding: str | None = None
    timezone: str | None = None
    time_formats: list[str] = []
    files: list[str] | str | dict[str, list[str] | str] | None = None
    inputs: dict[str, bool] = {}
    tables: Literal["all"] | dict[str, TableSpec | None] = {}


# ---------------------------------------------------------------- what the code uses


@dataclass(frozen=True)
class LookupSource:
    """A lookup, with the globs of the export files it reads."""

    name: str
    files: dict[str, tuple[str, ...]]  # export file name -> globs
    key: str
    on: str
    aggregate: dict[str, str]
    sql: str | None


@dataclass(frozen=True)
class Unpivot:
    name: str
    columns: dict[str, object]
    skip: tuple[SkipRule, ...]


@dataclass(frozen=True)
class TableMapping:
    """How a profile's files feed one contract table."""

    table: str
    files: tuple[str, ...]
    # contract column -> source rule: a header name, or {split|join|first_of|sql|value: ...}
    columns: dict[str, object] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    skip: tuple[SkipRule, ...] = ()
    unpivot: tuple[Unpivot, ...] = ()
    lookups: tuple[LookupSource, ...] = ()
    # True when the files are named files of an export: they may lie anywhere in the inbox
    anywhere: bool = False

    def claims(self, file_name: str) -> bool:
        return matches(file_name, self.files)

    def source_of(self, column: str) -> object:
        """The source rule of a contract column; by default a header of the same name."""
        return self.columns.get(column, column)

    @property
    def rows_per_source_row(self) -> int:
        return max(len(self.unpivot), 1)


@dataclass(frozen=True)
class SourceProfile:
    name: str
    description: str
    encoding: str | None
    time_formats: tuple[str, ...]
    tables: dict[str, TableMapping]
    timezone: str = field(default_factory=reporting_timezone)
    inputs: dict[str, bool] = field(default_factory=dict)
    path: Path | None = None

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_PROFILE


def matches(file_name: str, patterns: tuple[str, ...]) -> bool:
    name = file_name.casefold()
    return any(fnmatch.fnmatchcase(name, pattern.casefold()) for pattern in patterns)


def _as_tuple(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)


def _text(value: object) -> str | None:
    # YAML reads `是: true` as a boolean and `null` as None; the contract compares text.
    if value is None:
        return None
    return str(value).lower() if isinstance(value, bool) else str(value)


def _unknown_key_message(key: object, valid: list[str]) -> str:
    near = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
    hint = f"; did you mean {near[0]!r}?" if near else f"; valid keys: {', '.join(valid)}"
    return f"unknown key {key!r}{hint}"


def _column_names(table: Table, columns: dict, where: str) -> None:
    """Every column a profile maps must be a column of the table."""
    for name in columns:
        if name not in table.column_names:
            raise ProfileError(
                f"{where}: table {table.name} has no column {name!r}"
                + _near(name, table.column_names)
            )


def _near(name: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def _lookups(
    spec: TableSpec, export_files: dict[str, tuple[str, ...]], where: str
) -> tuple[LookupSource, ...]:
    lookups = []
    for name, lookup in spec.lookups.items():
        place = f"{where}.lookups.{name}"
        named = [lookup.from_] if lookup.from_ else list(lookup.files)
        if lookup.sql is None and not lookup.from_:
            raise ProfileError(f"{place}: a lookup reads one file (from:) or runs sql: over files")
        if lookup.sql is not None and not lookup.files:
            raise ProfileError(f"{place}: list the export files the sql reads under files:")
        for file_name in named:
            if file_name not in export_files:
                raise ProfileError(
                    f"{place}: {file_name!r} is not one of the profile's files"
                    + _near(file_name, list(export_files))
                )
        lookups.append(
            LookupSource(
                name=name,
                files={file_name: export_files[file_name] for file_name in named},
                key=lookup.key,
                on=lookup.on or lookup.key,
                aggregate=dict(lookup.aggregate),
                sql=lookup.sql,
            )
        )
    return tuple(lookups)


def _table_mapping(
    table: Table,
    spec: TableSpec,
    default_files: tuple[str, ...],
    export_files: dict[str, tuple[str, ...]],
    where: str,
) -> TableMapping:
    if spec.from_ is not None:
        if spec.from_ not in export_files:
            raise ProfileError(
                f"{where}.from: {spec.from_!r} is not one of the profile's files"
                + _near(spec.from_, list(export_files))
            )
        files, anywhere = export_files[spec.from_], True
    else:
        files, anywhere = _as_tuple(spec.files) or default_files, False
    if spec.lookups and not export_files:
        raise ProfileError(f"{where}.lookups: name the export's files (files: name: glob) first")
    if not files:
        raise ProfileError(f"{where}: say which files feed it (files: or from:)")
    columns = dict(spec.columns)
    columns.update({name: {"value": value} for name, value in spec.constants.items()})
    _column_names(table, columns, where)
    _column_names(table, spec.values, f"{where}.values")
    for branch in spec.unpivot:
        _column_names(table, branch.columns, f"{where}.unpivot.{branch.name}")
    return TableMapping(
        table=table.name,
        files=tuple(pattern.replace("{table}", table.name) for pattern in files),
        columns=columns,
        values={
            column: {_text(word): _text(ours) for word, ours in words.items()}
            for column, words in spec.values.items()
        },
        skip=tuple(spec.skip),
        unpivot=tuple(Unpivot(b.name, dict(b.columns), tuple(b.skip)) for b in spec.unpivot),
        lookups=_lookups(spec, export_files, where),
        anywhere=anywhere,
    )


def parse_profile(
    document: dict, name: str, contract: dict[str, Table], path: Path | None = None
) -> SourceProfile:
    """The profile in a YAML document, validated; ProfileError says what is wrong and where."""
    where = str(path) if path else name
    try:
        spec = ProfileSpec.model_validate(document)
    except ValidationError as error:
        raise ProfileError(_explain(error, where)) from None
    timezone = reporting_timezone()
    if spec.timezone:
        try:
            timezone = check_timezone(spec.timezone, f"{where}: timezone")
        except ValueError as error:
            raise ProfileError(str(error)) from None
    export_files = (
        {key: _as_tuple(globs) for key, globs in spec.files.items()}
        if isinstance(spec.files, dict)
        else {}
    )
    default_files = () if export_files else _as_tuple(spec.files)
    tables_spec = spec.tables
    if tables_spec == "all":
        tables_spec = dict.fromkeys(contract)
    for table_name in tables_spec:
        if table_name not in contract:
            raise ProfileError(
                f"{where}: tables: the contract has no table {table_name!r}"
                + _near(table_name, list(contract))
            )
    return SourceProfile(
        name=str(spec.name or name),
        description=spec.description,
        encoding=spec.encoding,
        time_formats=tuple(spec.time_formats) + ISO_TIME_FORMATS,
        tables={
            table: _table_mapping(
                contract[table],
                table_spec or TableSpec(),
                default_files,
                export_files,
                f"{where}: tables.{table}",
            )
            for table, table_spec in tables_spec.items()
        },
        timezone=timezone,
        inputs=dict(spec.inputs),
        path=path,
    )


def _explain(error: ValidationError, where: str) -> str:
    """The first problem of a validation error, in words: the key's path, and for an unknown
    key the nearest valid one."""
    # the deepest problem is the most specific (a union reports each member it tried)
    problem = max(
        error.errors(),
        key=lambda e: (
            len([p for p in e["loc"] if not _is_union_tag(p)]),
            e["type"] == "extra_forbidden",
        ),
    )
    location = [part for part in problem["loc"] if not _is_union_tag(part)]
    path = ".".join(str(part) for part in location)
    if problem["type"] == "extra_forbidden":
        valid = _valid_keys(ProfileSpec, location[:-1])
        return f"{where}: {'.'.join(str(p) for p in location[:-1]) or 'top level'}: " + (
            _unknown_key_message(location[-1], valid)
        )
    message = problem["msg"].removeprefix("Value error, ")
    return f"{where}: {path or 'top level'}: {message}"


def _is_union_tag(part: object) -> bool:
    # pydantic names the member of a union it tried ("list[str]", "function-after[...]")
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool"})


def _valid_keys(model: type[BaseModel], location: list) -> list[str]:
    """The keys the schema allows at a location (following dicts and lists by their values)."""
    kind: Any = model
    for part in location:
        kind = _step(kind, part)
        if kind is None:
            return []
    kind = _model_in(kind)
    if kind is None:
        return []
    return sorted(info.alias or name for name, info in kind.model_fields.items())


def _step(kind: Any, part: object) -> Any:
    model = _model_in(kind)
    if model is not None and isinstance(part, str):
        for name, info in model.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    for member in _members(kind):
        origin = get_origin(member)
        if origin is dict:
            return get_args(member)[1]
        if origin is list:
            return get_args(member)[0]
    return None


def _members(kind: Any) -> list:
    if get_origin(kind) in (Union, type(int | str)):
        return [member for member in get_args(kind) if member is not type(None)]
    return [kind]


def _model_in(kind: Any) -> type[BaseModel] | None:
    for member in _members(kind):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


def load_profile(path: Path, contract: dict[str, Table] | None = None) -> SourceProfile:
    try:
        document = yaml.load(path.read_text("utf-8"), Loader=ProfileLoader) or {}
    except yaml.YAMLError as error:
        raise ProfileError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(document, dict):
        raise ProfileError(f"{path}: a profile is a mapping of keys (name:, files:, tables:)")
    return parse_profile(document, path.stem, contract or load_contract(), path)


def load_profiles(profiles_dir: Path) -> list[SourceProfile]:
    """Every profile in the folder, specific ones first so the default only takes the rest."""
    contract = load_contract()
    profiles = [load_profile(path, contract) for path in sorted(profiles_dir.glob("*.yml"))]
    return sorted(profiles, key=lambda profile: (profile.is_default, profile.name))


def profile_for(
    file_path: Path, domain: str | None, profiles: list[SourceProfile]
) -> SourceProfile | None:
    """The first profile that claims this file for a table, if any: a simple profile for the
    tables of the domain whose inbox folder holds it, an export profile wherever it lies."""
    contract = load_contract()
    for profile in profiles:
        for mapping in profile.tables.values():
            in_place = mapping.anywhere or contract[mapping.table].domain == domain
            if in_place and mapping.claims(file_path.name):
                return profile
    return None


def lookup_files_of(profile: SourceProfile) -> set[tuple[str, ...]]:
    """The globs of every file a profile only looks values up in."""
    return {
        globs
        for mapping in profile.tables.values()
        for lookup in mapping.lookups
        for globs in lookup.files.values()
    }
