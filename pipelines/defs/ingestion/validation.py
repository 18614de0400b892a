"""The contract checks, as one set-based DuckDB pass over a file's rows.

Step 0 (`shaped_sql`): the file's rows seen through its profile, as one text column per
contract column: renames, split or joined columns, expressions, literals, values looked up
in other files of the export, the value maps; an unpivot makes several rows of each source
row, and a profile's skip rules mark the rows that are not rows of the table (_skip_reason).
Step 1 (`text_rows`): every contract column as trimmed text.
Step 2 (`checked_rows`): each column cast to its contract type, and every broken rule written
as a reason a person understands; the first occurrence of a primary key wins.
Rows without a reason land in raw.<table>; the others go to raw.quarantine; skipped rows are
counted per reason in the ledger.

Values never enter the SQL text: messages, formats, headers and value maps are parameters;
identifiers come from the contract, are the positional names c0..cN, or are file headers
quoted as identifiers. A profile's own `sql:` expressions and skip conditions are SQL by
design: profiles are configuration the operator writes, like the dbt models.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from pipelines.contract import Column, Table
from pipelines.defs.ingestion.profiles import SkipRule, SourceProfile, TableMapping
from pipelines.defs.ingestion.reading import SourceRows, displayed_line

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
# Names the shaping adds beside the file's headers; a header of that name is not reachable.
SHAPING_COLUMNS = {"_file", "_line", "_branch", "_skip_reason"}


class Parameters:
    """Collects values for a statement and hands back their placeholders."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def __call__(self, value: object) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def quote(identifier: str) -> str:
    """A name as a SQL identifier, whatever characters it holds."""
    return '"' + identifier.replace('"', '""') + '"'


@dataclass
class ColumnPlan:
    """Where a contract column's text comes from in this file, or None if it is absent.

    native: the file already holds the column in a type of its kind (a Parquet timestamp, a
    number), taken as it is instead of written out as text and parsed back."""

    column: Column
    text_sql: str | None
    headers_used: set[str] = field(default_factory=set)
    native: bool = False


@dataclass(frozen=True)
class Branch:
    """The rows made of each source row: one, or one per unpivot entry."""

    name: str | None
    plans: list[ColumnPlan]
    skip: tuple[SkipRule, ...] = ()


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


def source_columns(rows: SourceRows) -> dict[str, tuple[str, str]]:
    """Folded header -> (the header as a column of the named source, its positional column).

    The first of two equal headers wins; an empty header, or one named like a column the
    shaping adds, cannot be reached by name."""
    columns: dict[str, tuple[str, str]] = {}
    for index, header in enumerate(rows.headers):
        name = header.strip()
        folded = name.casefold()
        if name and folded not in columns and folded not in SHAPING_COLUMNS:
            columns[folded] = (name, f"c{index}")
    return columns


def named_source_sql(rows: SourceRows, incoming: str) -> str:
    """The file's rows with its headers as column names (for plain rules, `sql:` and skip
    rules): text trimmed, an empty cell null, as the exports mean it."""
    named = []
    for name, positional in source_columns(rows).values():
        is_text = pa.types.is_string(rows.data.schema.field(positional).type)
        value = f"nullif(trim({positional}), '')" if is_text else positional
        named.append(f"{value} as {quote(name)}")
    return f"(select {', '.join([*named, '_file', '_line'])} from {incoming})"


def _identifiers_in(sql: str, columns: dict[str, tuple[str, str]]) -> set[str]:
    """The headers an expression seems to name (for the ledger's list of unused columns)."""
    found = re.findall(r'"([^"]+)"|([^\W\d][\w]*)', sql)
    words = {word.casefold() for pair in found for word in pair if word}
    return {folded for folded in columns if folded in words}


def _source_sql(
    rule: object,
    columns: dict[str, tuple[str, str]],
    params: Parameters,
    used: set[str],
    lookups: frozenset[str] = frozenset(),
) -> str | None:
    """SQL text for one column rule, or None when the file lacks what it needs. A header of
    another file of the export is named <lookup>.<header>."""
    if isinstance(rule, str):
        found = columns.get(rule.strip().casefold())
        if found is not None:
            used.add(rule.strip().casefold())
            return f"nullif(trim(cast(source.{quote(found[0])} as varchar)), '')"
        lookup, dot, header = rule.strip().partition(".")
        if dot and lookup in lookups:
            return f"nullif(trim(cast({quote(lookup)}.{quote(header)} as varchar)), '')"
        return None
    if not isinstance(rule, dict):
        raise ValueError(f"a column source must be a header name or a rule, got {rule!r}")
    if "value" in rule:
        value = rule["value"]
        if value is None:
            return "cast(null as varchar)"
        text = str(value).lower() if isinstance(value, bool) else str(value)
        return f"cast({params(text)} as varchar)"
    if "sql" in rule:
        used |= _identifiers_in(rule["sql"], columns)
        return f"nullif(trim(cast(({rule['sql']}) as varchar)), '')"
    if "first_of" in rule:
        parts = [_source_sql(item, columns, params, used, lookups) for item in rule["first_of"]]
        parts = [part for part in parts if part]
        return f"coalesce({', '.join(parts)})" if parts else None
    if "join" in rule:
        parts = [_source_sql(item, columns, params, used, lookups) for item in rule["join"]]
        if not all(parts):
            return None
        separator = params(str(rule.get("separator", "-")))
        return f"nullif(concat_ws({separator}, {', '.join(parts)}), '')"
    if "split" in rule:
        whole = _source_sql(rule["split"], columns, params, used, lookups)
        if whole is None:
            return None
        separator = params(str(rule.get("separator", WHITESPACE)))
        pieces = f"string_split_regex({whole}, {separator})"
        part = int(rule["part"])
        if rule.get("rest"):  # the last target takes everything from its part on
            rest = f"list_slice({pieces}, {params(part)}, len({pieces}))"
            return f"nullif(array_to_string({rest}, ' '), '')"
        return f"nullif({pieces}[{params(part)}], '')"
    raise ValueError(f"unknown column rule {rule!r}: use split, join, first_of, sql or value")


def plan_columns(
    table: Table,
    mapping: TableMapping,
    rows: SourceRows,
    params: Parameters,
    overrides: dict[str, object] | None = None,
) -> list[ColumnPlan]:
    """Where each contract column comes from in this file (overrides: an unpivot entry's)."""
    columns = source_columns(rows)
    lookups = frozenset(lookup.name for lookup in mapping.lookups)
    plans = []
    for column in table.columns:
        used: set[str] = set()
        rule = (overrides or {}).get(column.name, mapping.source_of(column.name))
        text_sql = _source_sql(rule, columns, params, used, lookups)
        words = mapping.values.get(column.name)
        if text_sql and words:
            cases = " ".join(
                f"when {params(word)} then {params(ours)}"
                if ours is not None
                else f"when {params(word)} then null"
                for word, ours in words.items()
                if word is not None
            )
            text_sql = f"(case {text_sql} {cases} else {text_sql} end)"
        native = (
            text_sql is not None
            and not words
            and isinstance(rule, str)
            and rule.strip().casefold() in columns
            and _is_native(column, rows.data.schema.field(columns[rule.strip().casefold()][1]).type)
        )
        if native:
            text_sql = f"source.{quote(columns[rule.strip().casefold()][0])}"
        plans.append(ColumnPlan(column, text_sql, used, native))
    return plans


def plan_branches(
    table: Table, mapping: TableMapping, rows: SourceRows, params: Parameters
) -> list[Branch]:
    """The plans of each row a source row makes: one, or one per unpivot entry."""
    if not mapping.unpivot:
        return [Branch(None, plan_columns(table, mapping, rows, params))]
    return [
        Branch(entry.name, plan_columns(table, mapping, rows, params, entry.columns), entry.skip)
        for entry in mapping.unpivot
    ]


def missing_required(branches: list[Branch], mapping: TableMapping) -> list[str]:
    """Required contract columns the file cannot fill, named as the file should have them."""
    missing: dict[str, None] = {}
    for branch in branches:
        for plan in branch.plans:
            if plan.column.required and plan.text_sql is None:
                source = mapping.source_of(plan.column.name)
                shown = source if isinstance(source, str) else plan.column.name
                named = shown if shown == plan.column.name else f"{plan.column.name} ({shown})"
                missing[f"{named} [{branch.name}]" if branch.name else named] = None
    return list(missing)


def shaped_sql(
    table: Table,
    mapping: TableMapping,
    branches: list[Branch],
    source: str,
    joins: str,
    params: Parameters,
) -> str:
    """The file's rows as the table's rows: _file, _line, _branch, _skip_reason and one
    column per contract column (text, or the file's own type where native)."""
    skips = [(None, rule) for rule in mapping.skip]
    skips += [(branch.name, rule) for branch in branches for rule in branch.skip]
    # a skip rule may look at the source row itself (source.<header>)
    source_row = ", source as source" if any("source." in rule.when for _, rule in skips) else ""
    selects = []
    for branch in branches:
        branch_name = params(branch.name) if branch.name else "cast(null as varchar)"
        values = [
            f"{plan.text_sql or 'cast(null as varchar)'} as {quote(plan.column.name)}"
            for plan in branch.plans
        ]
        selects.append(
            f"select source._file, source._line, {branch_name} as _branch, {', '.join(values)}"
            f"{source_row} from {source} as source {joins}"
        )
    cases = " ".join(
        f"when {'_branch = ' + params(name) + ' and ' if name else ''}({rule.when}) "
        f"then {params(rule.reason)}"
        for name, rule in skips
    )
    skip_reason = f"case {cases} end" if cases else "cast(null as varchar)"
    rows = " union all ".join(selects)
    return f"(select *, {skip_reason} as _skip_reason from ({rows}) as shaped)"


def is_provided(plans_of_branches: list[Branch], column: str) -> bool:
    """Whether any row the file makes fills the column with something other than null."""
    return any(
        plan.text_sql not in (None, "cast(null as varchar)")
        for branch in plans_of_branches
        for plan in branch.plans
        if plan.column.name == column
    )


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
        # The session time zone is the profile's while a file is checked (see
        # source_time_zone), so a time without an offset is read as the export's local time
        # and one with +08:00 or Z as written; stored times are naive UTC. The profile's
        # formats catch the rest.
        formats = params(list(profile.time_formats))
        local = f"(try_strptime({text}, {formats}) at time zone {params(profile.timezone)})"
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


def _is_numeric(column: Column) -> bool:
    kind = column.data_type
    return kind in WHOLE_NUMBER_TYPES or kind == "double" or kind.startswith("decimal")


def _number_checks(
    column: Column, text: str, typed: str, params: Parameters
) -> list[tuple[str, str]]:
    """A number is stored as written or not at all: NaN and infinities, values out of the
    column's range and amounts with more decimals than it keeps (rounding them would change
    a price without a word) quarantine the row. The conditions exclude each other, so each
    bad value gets one reason."""
    name, kind = column.name, column.data_type
    number = f"try_cast({text} as double)"
    checks = [
        (f"{text} is not null and {number} is null", f"{name} '{{}}' is not {_type_words(column)}"),
        (f"not isfinite({number})", f"{name} '{{}}' is not a finite number"),
    ]
    finite = f"isfinite({number})"
    if kind in WHOLE_NUMBER_TYPES:
        checks.append(
            (f"{finite} and {number} <> trunc({number})", f"{name} '{{}}' is not a whole number")
        )
        checks.append(
            (
                f"{finite} and {number} = trunc({number}) and {typed} is null",
                f"{name} '{{}}' is out of range for a whole number of this column",
            )
        )
    elif kind.startswith("decimal"):
        precision, scale = (int(part) for part in kind[len("decimal(") : -1].split(","))
        checks.append(
            (
                f"{finite} and {typed} is null",
                f"{name} '{{}}' is out of range: "
                f"at most {precision - scale} digits before the point",
            )
        )
        # both sides are the double nearest to a decimal: equal unless the cast rounded
        checks.append(
            (
                f"{typed} is not null and cast({typed} as double) <> {number}",
                f"{name} '{{}}' has more than {scale} decimal places; it would be rounded",
            )
        )
    return [(condition, f"format({params(message)}, {text})") for condition, message in checks]


def _column_checks(
    column: Column,
    text: str,
    typed: str,
    params: Parameters,
    now_utc: datetime,
    timezone: str,
) -> list[tuple[str, str]]:
    """(condition, reason) pairs for one column, most basic first."""
    name = column.name
    checks = []
    if column.not_null:
        checks.append((f"{text} is null", f"{params(f'{name} is empty but must be filled')}"))
    if _is_numeric(column):
        checks += _number_checks(column, text, typed, params)
    elif column.data_type != "varchar":
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
            # today where the export was written
            latest = now_utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(timezone)).date()
        message = f"{name} '{{}}' is in the future"
        checks.append((f"{typed} > {params(latest)}", f"format({params(message)}, {text})"))
    return checks


@contextmanager
def source_time_zone(connection: duckdb.DuckDBPyConnection, timezone: str) -> Iterator[None]:
    """Read times without an offset as the source's local time for the duration of the block."""
    if not TIME_ZONE_NAME.match(timezone):
        raise ValueError(f"not a time zone name: {timezone!r}")
    previous = connection.execute("select current_setting('TimeZone')").fetchall()[0][0]
    connection.execute(f"set TimeZone = '{timezone}'")  # SET takes no parameters
    try:
        yield
    finally:
        connection.execute(f"set TimeZone = '{previous}'")


def check_rows(
    connection: duckdb.DuckDBPyConnection,
    table: Table,
    branches: list[Branch],
    profile: SourceProfile,
    params: Parameters,
    now_utc: datetime,
    shaped: str,
) -> None:
    """Fill the temp table checked_rows (t_<column> typed, _reason, _column, _skip_reason,
    _file, _line, _branch) from `shaped` (see shaped_sql).

    Run it inside source_time_zone(connection, profile.timezone): times without an offset are
    the export's local times.
    """
    # a column is native only when every row of every branch takes it as the file has it
    native = {
        column.name: all(
            plan.native
            for branch in branches
            for plan in branch.plans
            if plan.column.name == column.name
        )
        for column in table.columns
    }
    text_columns = [
        f"{quote(name)} as s_{name}"
        if native[name]
        else f"cast({quote(name)} as varchar) as s_{name}"
        for name in table.column_names
    ]
    typed_columns, conditions, reasons, culprits = [], [], [], []
    for column in table.columns:
        text, typed = f"s_{column.name}", f"t_{column.name}"
        typed_sql = _typed_sql(column, text, profile, params, native[column.name])
        typed_columns.append(f"{typed_sql} as {typed}")
        for condition, reason in _column_checks(
            column, text, typed, params, now_utc, profile.timezone
        ):
            conditions.append(f"when {condition} then true")
            reasons.append(f"case when {condition} then {reason} end")
            culprits.append(f"case when {condition} then {params(column.name)} end")
    # The reasons are written only for the rows that broke a rule: on a clean file the
    # cheap conditions run once per row and the messages never. A skipped row is not
    # checked: it is not a row of the table.
    is_bad = f"(case {' '.join(conditions)} else false end)" if conditions else "false"
    branch_label = "case when _branch is not null then '[' || _branch || '] ' end"
    reason_sql = (
        f"case when _is_bad then concat({branch_label}, concat_ws('; ', {', '.join(reasons)})) end"
    )
    column_sql = f"case when _is_bad then coalesce({', '.join(culprits)}) end"
    if not conditions:
        reason_sql = column_sql = "null"
    connection.execute(
        f"""
        create or replace temp table checked_rows as
        with text_rows as (
            select _file, _line, _branch, _skip_reason, {", ".join(text_columns)},
            from {shaped} as shaped
        ),
        typed as (
            select
                _file, _line, _branch, _skip_reason, {", ".join(typed_columns)},
                * exclude (_file, _line, _branch, _skip_reason),
            from text_rows
        ),
        judged as (
            select *, _skip_reason is null and {is_bad} as _is_bad, from typed
        ),
        final as (
            select
                _file,
                _line,
                _branch,
                {", ".join(f"t_{name}" for name in table.column_names)},
                {reason_sql} as _reason,
                {column_sql} as _column,
                _skip_reason,
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
        f"select count(*) from (select 1 from checked_rows "
        f"where _reason is null and _skip_reason is null group by {key} having count(*) > 1)"
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
                _branch,
                row_number() over (partition by {key} order by _line, _branch) as occurrence,
                {displayed_line("min(_line) over (partition by " + key + ")")} as first_line,
            from checked_rows
            where _reason is null and _skip_reason is null
        ) as duplicates
        where
            checked_rows._file = duplicates._file
            and checked_rows._line = duplicates._line
            and checked_rows._branch is not distinct from duplicates._branch
            and duplicates.occurrence > 1
        """,
        params.values,
    )
