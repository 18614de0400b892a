"""The contract checks, as one set-based DuckDB pass over a file's rows.

Step 1 (`text_rows`): every contract column as trimmed text, taken from the file through the
profile (renames, split or joined columns, constants) and its value maps.
Step 2 (`checked_rows`): each column cast to its contract type, and every broken rule written
as a reason a person understands; the first occurrence of a primary key wins.
Rows without a reason land in raw.<table>; the others go to raw.quarantine.

Values never enter the SQL text: messages, formats, headers and value maps are parameters;
identifiers come from the contract or are the positional names c0..cN.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa

from pipelines.contract import Column, Table
from pipelines.defs.ingestion.profiles import SourceProfile, TableMapping
from pipelines.defs.ingestion.reading import SourceRows
from pipelines.settings import LOCAL_TIMEZONE

TIME_ZONE_NAME = re.compile(r"^[A-Za-z]+(/[A-Za-z_+-]+)*$")
# Deadlines and promises lie ahead by nature; every other time says when something happened.
PLANNED_TIME_COLUMNS = frozenset({"ship_by_at", "promised_delivery_at"})
# A source system's clock may run a little ahead of ours; that is not bad input.
CLOCK_TOLERANCE = timedelta(minutes=10)
SQL_TYPE = re.compile(
    r"^(varchar|integer|bigint|smallint|double|boolean|date|timestamp"
    r"|decimal\(\d+,\s*\d+\))$"
)
WHOLE_NUMBER_TYPES = {"integer", "bigint", "smallint"}
WHITESPACE = r"\s+"


class Parameters:
    """Collects values for a statement and hands back their placeholders."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def __call__(self, value: object) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


@dataclass
class ColumnPlan:
    """Where a contract column's text comes from in this file, or None if it is absent.

    native: the file already holds the column in a type of its kind (a Parquet timestamp, a
    number), taken as it is instead of written out as text and parsed back."""

    column: Column
    text_sql: str | None
    headers_used: set[str] = field(default_factory=set)
    native: bool = False


def _is_native(column: Column, source_type: pa.DataType) -> bool:
    """Whether a file column of source_type can be cast to the contract type as it is."""
    kind = sql_type(column)
    numeric = (
        pa.types.is_integer(source_type)
        or pa.types.is_floating(source_type)
        or pa.types.is_decimal(source_type)
    )
    if kind == "timestamp":
        return pa.types.is_timestamp(source_type)
    if kind == "date":
        return pa.types.is_date(source_type)
    if kind in WHOLE_NUMBER_TYPES:
        return pa.types.is_integer(source_type)
    if kind == "double" or kind.startswith("decimal"):
        return numeric
    if kind == "boolean":
        return pa.types.is_boolean(source_type)
    return False


def sql_type(column: Column) -> str:
    if not SQL_TYPE.match(column.data_type):
        raise ValueError(f"unsupported contract type {column.data_type!r} for {column.name}")
    return column.data_type


def _header_lookup(rows: SourceRows) -> dict[str, str]:
    """Folded header name -> positional column; the first of two equal headers wins."""
    lookup: dict[str, str] = {}
    for index, header in enumerate(rows.headers):
        lookup.setdefault(header.strip().casefold(), f"c{index}")
    return lookup


def _source_sql(
    spec: object, lookup: dict[str, str], params: Parameters, used: set[str]
) -> str | None:
    """SQL text for one source spec, or None when the file lacks what it needs."""
    if isinstance(spec, str):
        name = lookup.get(spec.strip().casefold())
        if name is None:
            return None
        used.add(spec.strip().casefold())
        return f"nullif(trim(cast({name} as varchar)), '')"
    if not isinstance(spec, dict):
        raise ValueError(f"a column source must be a header name or a rule, got {spec!r}")
    if "first_of" in spec:
        parts = [_source_sql(item, lookup, params, used) for item in spec["first_of"]]
        parts = [part for part in parts if part]
        return f"coalesce({', '.join(parts)})" if parts else None
    if "join" in spec:
        parts = [_source_sql(item, lookup, params, used) for item in spec["join"]]
        if not all(parts):
            return None
        separator = params(str(spec.get("separator", "-")))
        return f"nullif(concat_ws({separator}, {', '.join(parts)}), '')"
    if "split" in spec:
        whole = _source_sql(spec["split"], lookup, params, used)
        if whole is None:
            return None
        separator = params(str(spec.get("separator", WHITESPACE)))
        pieces = f"string_split_regex({whole}, {separator})"
        part = int(spec["part"])
        if spec.get("rest"):  # the last target takes everything from its part on
            rest = f"list_slice({pieces}, {params(part)}, len({pieces}))"
            return f"nullif(array_to_string({rest}, ' '), '')"
        return f"nullif({pieces}[{params(part)}], '')"
    raise ValueError(f"unknown column rule {spec!r}: use split, join or first_of")


def plan_columns(
    table: Table, mapping: TableMapping, rows: SourceRows, params: Parameters
) -> list[ColumnPlan]:
    lookup = _header_lookup(rows)
    plans = []
    for column in table.columns:
        used: set[str] = set()
        if column.name in mapping.constants:
            text_sql = f"cast({params(mapping.constants[column.name])} as varchar)"
        else:
            text_sql = _source_sql(mapping.source_of(column.name), lookup, params, used)
        words = mapping.values.get(column.name)
        if text_sql and words:
            cases = " ".join(
                f"when {params(word)} then {params(ours)}" for word, ours in words.items()
            )
            text_sql = f"(case {text_sql} {cases} else {text_sql} end)"
        source = mapping.source_of(column.name)
        native = (
            text_sql is not None
            and not words
            and isinstance(source, str)
            and column.name not in mapping.constants
            and _is_native(column, rows.data.schema.field(lookup[source.strip().casefold()]).type)
        )
        if native:
            text_sql = lookup[source.strip().casefold()]
        plans.append(ColumnPlan(column, text_sql, used, native))
    return plans


def missing_required(plans: list[ColumnPlan], mapping: TableMapping) -> list[str]:
    """Required contract columns the file cannot fill, named as the file should have them."""
    missing = []
    for plan in plans:
        if plan.column.required and plan.text_sql is None:
            source = mapping.source_of(plan.column.name)
            shown = source if isinstance(source, str) else plan.column.name
            missing.append(shown if shown == plan.column.name else f"{plan.column.name} ({shown})")
    return missing


def _typed_sql(
    column: Column, text: str, profile: SourceProfile, params: Parameters, native: bool
) -> str:
    kind = sql_type(column)
    if native and kind == "timestamp":
        # a timestamp without a zone is local time (the session's), one with a zone as it is
        return f"cast({text} as timestamptz) at time zone 'UTC'"
    if native:
        return f"try_cast({text} as {kind})"
    if kind in WHOLE_NUMBER_TYPES:
        # try_cast rounds '2.5' to 3; a quantity of 2.5 is bad input, not 3.
        return (
            f"case when try_cast({text} as double) = try_cast({text} as bigint) "
            f"then try_cast({text} as {kind}) end"
        )
    if kind == "date":
        formats = params(list(profile.time_formats))
        return f"coalesce(try_cast({text} as date), cast(try_strptime({text}, {formats}) as date))"
    if kind == "timestamp":
        # The session time zone is the local one while a file is checked (see local_time_zone),
        # so a time without an offset is read as Asia/Shanghai and one with +08:00 or Z as
        # written; stored times are naive UTC. The profile's formats catch the rest.
        formats = params(list(profile.time_formats))
        local = f"(try_strptime({text}, {formats}) at time zone {params(LOCAL_TIMEZONE)})"
        return (
            f"coalesce(try_cast({text} as timestamptz) at time zone 'UTC', "
            f"{local} at time zone 'UTC')"
        )
    return f"try_cast({text} as {kind})"


def _type_words(column: Column) -> str:
    kind = column.data_type
    if kind in WHOLE_NUMBER_TYPES:
        return "a whole number"
    if kind.startswith("decimal"):
        return "an amount"
    return {
        "double": "a number",
        "boolean": "true or false",
        "date": "a date",
        "timestamp": "a time in a known format",
    }.get(kind, f"a {kind}")


def _column_checks(
    column: Column, text: str, typed: str, params: Parameters, now_utc: datetime
) -> list[tuple[str, str]]:
    """(condition, reason) pairs for one column, most basic first."""
    name = column.name
    checks = []
    if column.not_null:
        checks.append((f"{text} is null", f"{params(f'{name} is empty but must be filled')}"))
    if column.data_type != "varchar":
        message = f"{name} '{{}}' is not {_type_words(column)}"
        checks.append(
            (f"{text} is not null and {typed} is null", f"format({params(message)}, {text})")
        )
    if column.positive:
        checks.append(
            (
                f"{typed} <= 0",
                f"format({params(f'{name} must be greater than zero, got {{}}')}, {text})",
            )
        )
    if column.accepted_values:
        allowed = list(column.accepted_values)
        message = f"{name} '{{}}' is not one of: {', '.join(allowed)}"
        checks.append(
            (f"not list_contains({params(allowed)}, {typed})", f"format({params(message)}, {text})")
        )
    if column.data_type in ("timestamp", "date") and name not in PLANNED_TIME_COLUMNS:
        latest = now_utc + CLOCK_TOLERANCE
        if column.data_type == "date":
            latest = (now_utc + timedelta(hours=8)).date()  # today in Asia/Shanghai
        message = f"{name} '{{}}' is in the future"
        checks.append((f"{typed} > {params(latest)}", f"format({params(message)}, {text})"))
    return checks


@contextmanager
def local_time_zone(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Read times without an offset as local time for the duration of the block."""
    if not TIME_ZONE_NAME.match(LOCAL_TIMEZONE):
        raise ValueError(f"not a time zone name: {LOCAL_TIMEZONE!r}")
    previous = connection.execute("select current_setting('TimeZone')").fetchall()[0][0]
    connection.execute(f"set TimeZone = '{LOCAL_TIMEZONE}'")  # SET takes no parameters
    try:
        yield
    finally:
        connection.execute(f"set TimeZone = '{previous}'")


def check_rows(
    connection: duckdb.DuckDBPyConnection,
    table: Table,
    plans: list[ColumnPlan],
    profile: SourceProfile,
    params: Parameters,
    now_utc: datetime,
    incoming: str = "incoming",
) -> None:
    """Fill the temp table checked_rows (t_<column> typed, _reason, _column, _file, _line)
    from `incoming`: a relation of c0..cN with _file (the file) and _line (its line there).

    Run it inside local_time_zone(connection): times without an offset are local times.
    """
    text_columns = [
        f"{plan.text_sql or 'cast(null as varchar)'} as s_{plan.column.name}" for plan in plans
    ]
    typed_columns, conditions, reasons, culprits = [], [], [], []
    for plan in plans:
        text, typed = f"s_{plan.column.name}", f"t_{plan.column.name}"
        typed_sql = _typed_sql(plan.column, text, profile, params, plan.native)
        typed_columns.append(f"{typed_sql} as {typed}")
        for condition, reason in _column_checks(plan.column, text, typed, params, now_utc):
            conditions.append(f"when {condition} then true")
            reasons.append(f"case when {condition} then {reason} end")
            culprits.append(f"case when {condition} then {params(plan.column.name)} end")
    # The reasons are written only for the rows that broke a rule: on a clean file the
    # cheap conditions run once per row and the messages never
    is_bad = f"(case {' '.join(conditions)} else false end)" if conditions else "false"
    reason_sql = f"case when _is_bad then concat_ws('; ', {', '.join(reasons)}) end"
    column_sql = f"case when _is_bad then coalesce({', '.join(culprits)}) end"
    if not conditions:
        reason_sql = column_sql = "null"
    connection.execute(
        f"""
        create or replace temp table checked_rows as
        with text_rows as (
            select _file, _line, {", ".join(text_columns)}, from {incoming} as incoming
        ),
        typed as (
            select _file, _line, {", ".join(typed_columns)}, * exclude (_file, _line),
            from text_rows
        ),
        judged as (
            select *, {is_bad} as _is_bad, from typed
        ),
        final as (
            select
                _file,
                _line,
                {", ".join(f"t_{name}" for name in table.column_names)},
                {reason_sql} as _reason,
                {column_sql} as _column,
            from judged
        )
        select * from final
        """,
        params.values,
    )
    _mark_duplicate_keys(connection, table)


def _mark_duplicate_keys(connection: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Within a file the first row of a key wins; later ones are quarantined, pointing to it."""
    if not table.primary_key:
        return
    key = ", ".join(["_file", *(f"t_{name}" for name in table.primary_key)])
    repeated = connection.execute(
        f"select count(*) from (select 1 from checked_rows where _reason is null "
        f"group by {key} having count(*) > 1)"
    ).fetchall()[0][0]
    if not repeated:  # the usual case: skip the window over the whole file
        return
    params = Parameters()
    key_text = ", ".join(f"{name}={{}}" for name in table.primary_key)
    message = params(f"duplicate key {key_text}: the same key is already on line {{}} of this file")
    key_values = ", ".join(f"t_{name}" for name in table.primary_key)
    connection.execute(
        f"""
        update checked_rows
        set
            _reason = format({message}, {key_values}, duplicates.first_line),
            _column = {params(table.primary_key[0])}
        from (
            select
                _file,
                _line,
                row_number() over (partition by {key} order by _line) as occurrence,
                min(_line) over (partition by {key}) as first_line,
            from checked_rows
            where _reason is null
        ) as duplicates
        where
            checked_rows._file = duplicates._file
            and checked_rows._line = duplicates._line
            and duplicates.occurrence > 1
        """,
        params.values,
    )
