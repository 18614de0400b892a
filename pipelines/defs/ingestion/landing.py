"""Landing inbox files in the warehouse: typed rows, quarantined rows and the ledger.

Everything one file does (replacing its earlier version, its rows, its quarantine, its ledger
row) happens in one DuckDB transaction, so a run killed mid-file leaves nothing half-written.
Consecutive files share a transaction up to ROWS_PER_TRANSACTION rows: DuckDB then writes
their row groups straight to the database file instead of through the write-ahead log (on
1M orders, committing each day's file alone spent 40 % of ingestion writing the log).

A key that arrives again in a later file (an order re-exported after it changed) is kept in
both files' rows: raw tables are the history of what was delivered, with lineage columns, and
staging takes the latest version of a key by _ingested_at, then _source_file, _source_line.
Only within one file is a repeated key bad input (quarantined, the first occurrence wins).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pipelines import settings
from pipelines.contract import DOMAINS, LINEAGE_COLUMNS, Table, load_contract
from pipelines.defs.ingestion.profiles import (
    LookupSource,
    SourceProfile,
    TableMapping,
    load_profiles,
    lookup_files_of,
    matches,
    profile_for,
)
from pipelines.defs.ingestion.reading import (
    SHEET_COLUMN,
    SourceRows,
    UnreadableFileError,
    displayed_line,
    read_parquet_shape,
    read_source,
)
from pipelines.defs.ingestion.validation import (
    Parameters,
    check_rows,
    is_provided,
    missing_required,
    named_source_sql,
    plan_branches,
    quote,
    shaped_sql,
    source_columns,
    source_time_zone,
    sql_type,
)
from pipelines.inbox import (
    DAY_IN_NAME,
    day_in_name,
    file_hash,
    implausible_day,
    inbox_files,
    inbox_link,
    name_problem,
    partition_day_of,
    readable_name,
)

LEDGER_DDL = """
create table if not exists raw.ingested_files (
    source_file varchar,
    table_name varchar,
    domain varchar,
    file_hash varchar,
    profile varchar,
    partition_date date,
    rows_read bigint,
    rows_loaded bigint,
    rows_quarantined bigint,
    status varchar,
    message varchar,
    ingested_at timestamp,
    rows_skipped bigint,
    skip_reasons varchar,
    columns_not_provided varchar,
)
"""
# Columns the ledger gained after its first version; a warehouse built before gets them.
LEDGER_ADDED_COLUMNS = {
    "rows_skipped": "bigint",
    "skip_reasons": "varchar",
    "columns_not_provided": "varchar",
}
QUARANTINE_DDL = """
create table if not exists raw.quarantine (
    domain varchar,
    table_name varchar,
    source_file varchar,
    line_number bigint,
    column_name varchar,
    reason varchar,
    raw_record varchar,
    file_hash varchar,
    quarantined_at timestamp,
)
"""
PROFILE_INPUTS_DDL = """
create table if not exists raw.profile_inputs (
    profile varchar,
    input varchar,
    is_provided boolean,
)
"""
# What tied each row a re-delivery deleted to the orders built from it: the rows are gone
# from raw and staging, so the next incremental dbt build finds these orders here
# (int_orders__rebuild_scope). Written in the transaction that deletes the rows, from the rows
# the delete finds: the build then reads a few records, not the history, to know what vanished.
REPLACED_KEYS_DDL = """
create table if not exists raw.replaced_keys (
    table_name varchar,
    source_file varchar,
    order_id varchar,
    tracking_number varchar,
    sku varchar,
    product_id varchar,
    warehouse_id varchar,
    snapshot_date date,
    ingested_at timestamp,
)
"""
# The columns of a table's rows that reach orders: an order id where the row has one, else a
# parcel's tracking number, a SKU master row's SKU and product, a stock snapshot's key.
REPLACED_KEY_COLUMNS = {
    "tracking_events": ("tracking_number",),
    "skus": ("sku", "product_id"),
    "stock_snapshots": ("sku", "warehouse_id", "snapshot_date"),
}
CURRENT_STATUSES = ("loaded", "replaced")
# A ledger message is read in a table cell: lists in it are cut, and so is a long error.
MESSAGE_CHARS = 400
NAMES_LISTED = 10
ROWS_PER_TRANSACTION = 2_000_000
# Parquet files read by one statement (DuckDB reads them in parallel); bounds its temp table.
ROWS_PER_STATEMENT = 2_000_000


@dataclass
class FileOutcome:
    """What happened to one file for one table; one row of raw.ingested_files."""

    source_file: str
    table_name: str
    domain: str
    file_hash: str
    profile: str
    partition_date: date
    status: str
    message: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)
    encoding: str | None = None
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    # contract columns this file does not fill for any row (the rules that need them cannot
    # judge its orders: see the exception catalogue's inputs)
    not_provided: list[str] = field(default_factory=list)


@dataclass
class IngestionSummary:
    table_name: str
    files: list[FileOutcome] = field(default_factory=list)
    unclaimed_files: list[str] = field(default_factory=list)

    def _total(self, attribute: str) -> int:
        return sum(getattr(outcome, attribute) for outcome in self.files)

    @property
    def rows_read(self) -> int:
        return self._total("rows_read")

    @property
    def rows_loaded(self) -> int:
        return self._total("rows_loaded")

    @property
    def rows_quarantined(self) -> int:
        return self._total("rows_quarantined")

    @property
    def rows_skipped(self) -> int:
        return self._total("rows_skipped")

    @property
    def skip_reasons(self) -> dict[str, int]:
        reasons: dict[str, int] = {}
        for outcome in self.files:
            for reason, count in outcome.skip_reasons.items():
                reasons[reason] = reasons.get(reason, 0) + count
        return reasons

    @property
    def rejected(self) -> dict[str, str]:
        return {f.source_file: f.message for f in self.files if f.status == "rejected"}

    @property
    def extra_columns(self) -> dict[str, list[str]]:
        return {f.source_file: f.extra_columns for f in self.files if f.extra_columns}

    def by_status(self, status: str) -> list[str]:
        return [f.source_file for f in self.files if f.status == status]


def _now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_tables(connection: duckdb.DuckDBPyConnection, table: Table) -> None:
    columns = [f"{column.name} {sql_type(column)}" for column in table.columns]
    columns += [f"{name} {kind}" for name, kind in LINEAGE_COLUMNS.items()]
    connection.execute("create schema if not exists raw")
    connection.execute(f"create table if not exists raw.{table.name} ({', '.join(columns)})")
    # a column the contract gained since the table was made (an upgrade: the stock snapshot's
    # in-transit pair) is added, null on the rows loaded before, as the contract's optional
    # columns are for a file without them; without it dbt's staging stops on the missing name
    for column in table.columns:
        added = f"{column.name} {sql_type(column)}"
        connection.execute(f"alter table raw.{table.name} add column if not exists {added}")
    connection.execute(LEDGER_DDL)
    for name, kind in LEDGER_ADDED_COLUMNS.items():
        connection.execute(f"alter table raw.ingested_files add column if not exists {name} {kind}")
    connection.execute(QUARANTINE_DDL)
    connection.execute(PROFILE_INPUTS_DDL)
    connection.execute(REPLACED_KEYS_DDL)


def record_profile_inputs(
    connection: duckdb.DuckDBPyConnection, profiles: list[SourceProfile]
) -> None:
    """What each profile declares its source can or cannot show (its `inputs:` section), as
    the rules' coverage reads it; rewritten from the profiles on every ingestion."""
    declared = [
        (profile.name, name, provided)
        for profile in profiles
        for name, provided in profile.inputs.items()
    ]
    connection.execute("begin")
    connection.execute("delete from raw.profile_inputs")
    if declared:
        connection.executemany("insert into raw.profile_inputs values (?, ?, ?)", declared)
    connection.execute("commit")


def _record_ledger(
    connection: duckdb.DuckDBPyConnection, outcome: FileOutcome, ingested_at: datetime
) -> None:
    connection.execute(
        """
        insert into raw.ingested_files by name
        select
            ? as source_file, ? as table_name, ? as domain, ? as file_hash, ? as profile,
            ? as partition_date, ? as rows_read, ? as rows_loaded, ? as rows_quarantined,
            ? as status, ? as message, ? as ingested_at, ? as rows_skipped,
            ? as skip_reasons, ? as columns_not_provided
        """,
        [
            outcome.source_file,
            outcome.table_name,
            outcome.domain,
            outcome.file_hash,
            outcome.profile,
            outcome.partition_date,
            outcome.rows_read,
            outcome.rows_loaded,
            outcome.rows_quarantined,
            outcome.status,
            short_message(outcome.message),
            ingested_at,
            outcome.rows_skipped,
            json.dumps(outcome.skip_reasons, ensure_ascii=False) if outcome.skip_reasons else None,
            ", ".join(outcome.not_provided) or None,
        ],
    )


def short_message(message: str) -> str:
    if len(message) <= MESSAGE_CHARS:
        return message
    return message[: MESSAGE_CHARS - 1] + "…"


def listed(names: list[str]) -> str:
    """Names for a message: the first few, then how many more."""
    shown = ", ".join(names[:NAMES_LISTED])
    more = len(names) - NAMES_LISTED
    return f"{shown} and {more:,} more" if more > 0 else shown


def _current_version(connection: duckdb.DuckDBPyConnection, outcome: FileOutcome):
    # fetchall, not fetchone: DuckDB 2 keeps a half-read result open and blocks the connection.
    rows = connection.execute(
        """
        select file_hash, ingested_at
        from raw.ingested_files
        where source_file = ? and table_name = ? and status in ('loaded', 'replaced')
        order by ingested_at desc
        limit 1
        """,
        [outcome.source_file, outcome.table_name],
    ).fetchall()
    return rows[0] if rows else None


def _reject(
    connection: duckdb.DuckDBPyConnection, outcome: FileOutcome, message: str, had_version: bool
) -> FileOutcome:
    outcome.status = "rejected"
    kept = " The rows of its earlier version are kept." if had_version else ""
    outcome.message = f"{message}.{kept} Nothing from this version was loaded."
    outcome.rows_read = outcome.rows_loaded = outcome.rows_quarantined = 0
    outcome.rows_skipped = 0
    outcome.skip_reasons = {}
    _record_ledger(connection, outcome, _now_utc())
    return outcome


def _headers_used(profile: SourceProfile, file_name: str, rows: SourceRows) -> set[str]:
    """Folded headers that some table of the profile takes from this file."""
    used: set[str] = set()
    for mapping in profile.tables.values():
        if mapping.claims(file_name):
            table = load_contract()[mapping.table]
            for branch in plan_branches(table, mapping, rows, Parameters()):
                for plan in branch.plans:
                    used |= plan.headers_used
            used |= {lookup.on.strip().casefold() for lookup in mapping.lookups}
    return used


def _rule_headers(rule: object) -> Iterable[str]:
    """The header names a column rule reads by name."""
    if isinstance(rule, str):
        yield rule
    elif isinstance(rule, dict):
        for key in ("split", "join", "first_of"):
            items = rule.get(key)
            for item in [items] if isinstance(items, str | dict) else items or []:
                yield from _rule_headers(item)


def _expected_headers(table: Table, mapping: TableMapping) -> set[str]:
    """Header names to look for when a title row may sit above the header."""
    rules = [mapping.source_of(column.name) for column in table.columns]
    rules += [rule for entry in mapping.unpivot for rule in entry.columns.values()]
    names = {name for rule in rules for name in _rule_headers(rule)}
    return names | {lookup.on for lookup in mapping.lookups}


def _message(outcome: FileOutcome, rows: SourceRows) -> str:
    parts = [f"{outcome.rows_loaded} rows loaded, {outcome.rows_quarantined} quarantined"]
    if outcome.rows_skipped:
        reasons = "; ".join(f"{count} {reason}" for reason, count in outcome.skip_reasons.items())
        parts[0] += f", {outcome.rows_skipped} skipped by the profile ({reasons})"
    if rows.encoding:
        parts.append(f"read as {rows.encoding}")
    if outcome.rows_read == 0:
        parts.append("the file is empty: no data rows")
    if outcome.extra_columns:
        parts.append(f"columns not in the contract, ignored: {listed(outcome.extra_columns)}")
    if outcome.status == "replaced":
        parts.append("replaces the rows of its earlier version")
    return "; ".join(parts)


# ---------------------------------------------------------------- values from other files


@dataclass
class LookupFiles:
    """The export files a delivery's lookups read, found beside its file."""

    paths: dict[str, Path]  # export file name -> its file
    missing: dict[str, tuple[str, ...]]  # export file name -> the globs nothing matched

    def combined_hash(self, own_hash: str) -> str:
        """The delivery's version: its own file and every file it looks values up in (a
        corrected items file changes the order amounts of an unchanged orders file)."""
        if not self.paths:
            return own_hash
        digest = hashlib.sha256(own_hash.encode())
        for name in sorted(self.paths):
            digest.update(f"{name}:{file_hash(self.paths[name])}".encode())
        return digest.hexdigest()


def _same_day(candidate: Path, path: Path) -> bool:
    ours = [match.group(0).replace("-", "") for match in DAY_IN_NAME.finditer(path.name)]
    theirs = [match.group(0).replace("-", "") for match in DAY_IN_NAME.finditer(candidate.name)]
    return bool(set(ours) & set(theirs))


def find_lookup_files(path: Path, mapping: TableMapping) -> LookupFiles:
    """Each export file a lookup reads: in the folder of the delivery's file; among several,
    the one whose name carries the same date, else the last by name."""
    wanted: dict[str, tuple[str, ...]] = {}
    for lookup in mapping.lookups:
        wanted.update(lookup.files)
    found, missing = {}, {}
    siblings = sorted(entry for entry in path.parent.iterdir() if entry.is_file())
    for name, globs in wanted.items():
        candidates = [entry for entry in siblings if matches(entry.name, globs)]
        dated = [entry for entry in candidates if _same_day(entry, path)]
        if dated or candidates:
            found[name] = (dated or candidates)[-1]
        else:
            missing[name] = globs
    return LookupFiles(found, missing)


def _named_table(rows: SourceRows) -> pa.Table:
    """A lookup file's rows with its headers as column names, and _line; text trimmed and an
    empty cell null, as in the file the lookup serves (see named_source_sql)."""
    columns = source_columns(rows)
    table = rows.data.select([positional for _, positional in columns.values()])
    cleaned = []
    for column in table.columns:
        if pa.types.is_string(column.type):
            column = pc.utf8_trim_whitespace(column)
            column = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
        cleaned.append(column)
    table = pa.table(cleaned, names=[name for name, _ in columns.values()])
    return table.append_column("_line", pa.array(rows.lines, pa.int64()))


def _lookup_relation(lookup: LookupSource, relations: dict[str, str]) -> str:
    """One row per key: the first row of the file, its aggregates, or the profile's sql."""
    key = quote(lookup.key)
    if lookup.sql is not None:
        return (
            f"(select *, {key} as _key from ({lookup.sql}) as looked_up "
            f"qualify row_number() over (partition by {key}) = 1)"
        )
    relation = relations[next(iter(lookup.files))]
    if lookup.aggregate:
        values = ", ".join(f"{sql} as {quote(name)}" for name, sql in lookup.aggregate.items())
        return f"(select {key} as _key, {values} from {relation} group by {key})"
    return (
        f"(select *, {key} as _key from {relation} "
        f"qualify row_number() over (partition by {key} order by _line) = 1)"
    )


@dataclass
class Delivery:
    """Files of one table that one statement lands: a single file, or consecutive Parquet
    files of one profile and one schema, which DuckDB reads together and in parallel.

    rows: a single file's rows; for Parquet the shared headers and schema only (no rows)."""

    profile: SourceProfile
    files: list[tuple[Path, FileOutcome]]
    rows: SourceRows
    parquet_rows: int = 0  # rows of the Parquet files, from their footers
    # the rows of the export files its lookups read (export file name -> its named rows)
    lookup_rows: dict[str, pa.Table] = field(default_factory=dict)

    @property
    def is_parquet(self) -> bool:
        return self.parquet_rows > 0

    def accepts(self, profile: SourceProfile, shape: SourceRows, rows: int) -> bool:
        """Whether a Parquet file of this shape joins the delivery (files that look values up
        in the files beside them are landed one by one)."""
        return (
            self.is_parquet
            and not self.lookup_rows
            and profile.name == self.profile.name
            and shape.headers == self.rows.headers
            and shape.data.schema.equals(self.rows.data.schema)
            and self.parquet_rows + rows <= ROWS_PER_STATEMENT
        )


def _incoming_sql(delivery: Delivery, params: Parameters) -> str:
    """The delivery's rows as c0..cN with _file (its path) and _line (its line in the file)."""
    if not delivery.is_parquet:
        return "incoming"
    columns = ", ".join(f"#{index + 1} as c{index}" for index in range(len(delivery.rows.headers)))
    paths = params([str(path) for path, _ in delivery.files])
    return (
        f"(select {columns}, filename as _file, file_row_number + 1 as _line "
        f"from read_parquet({paths}, filename = true, file_row_number = true))"
    )


def _quarantine_checked_rows(
    connection: duckdb.DuckDBPyConnection,
    table: Table,
    delivery: Delivery,
    ingested_at: datetime,
) -> None:
    """Rows that broke a rule, with the row as it was in the file (original headers)."""
    params = Parameters()
    headers = delivery.rows.headers
    record = ", ".join(f"{params(name)}, incoming.c{index}" for index, name in enumerate(headers))
    record_sql = f"cast(json_object({record}) as varchar)" if record else "'{}'"
    connection.execute(
        f"""
        insert into raw.quarantine
        select
            {params(table.domain)}, {params(table.name)}, files.source_file,
            {displayed_line("checked._line")}, checked._column, checked._reason, {record_sql},
            files.file_hash, {params(ingested_at)},
        from checked_rows as checked
        inner join delivery_files as files on checked._file = files.path
        inner join {_incoming_sql(delivery, params)} as incoming
            on checked._file = incoming._file and checked._line = incoming._line
        where checked._reason is not null
        order by files.source_file, checked._line
        """,
        params.values,
    )


def _land(
    connection: duckdb.DuckDBPyConnection,
    table: Table,
    delivery: Delivery,
    ingested_at: datetime,
) -> None:
    """Write the delivery's rows, quarantine and ledger rows; the caller holds the transaction."""
    outcomes = [outcome for _, outcome in delivery.files]
    replaced = [outcome.source_file for outcome in outcomes if outcome.status == "replaced"]
    if replaced:
        keys = ", ".join(REPLACED_KEY_COLUMNS.get(table.name, ("order_id",)))
        connection.execute(
            f"""
            insert into raw.replaced_keys by name
            select distinct
                $table as table_name, _source_file as source_file, {keys},
                $ingested_at as ingested_at
            from raw.{table.name}
            where list_contains($files, _source_file)
            """,
            {"table": table.name, "files": replaced, "ingested_at": ingested_at},
        )
        connection.execute(
            f"delete from raw.{table.name} where list_contains($files, _source_file)",
            {"files": replaced},
        )
        connection.execute(
            "delete from raw.quarantine where table_name = $table "
            "and list_contains($files, source_file)",
            {"table": table.name, "files": replaced},
        )
    columns = ", ".join(table.column_names)
    typed = ", ".join(f"checked.t_{name}" for name in table.column_names)
    connection.execute(
        f"""
        insert into raw.{table.name} ({columns}, _source_file, _source_line, _file_hash,
            _ingested_at)
        select {typed}, files.source_file, {displayed_line("checked._line")}, files.file_hash,
            $ingested_at
        from checked_rows as checked
        inner join delivery_files as files on checked._file = files.path
        where checked._reason is null and checked._skip_reason is null
        """,
        {"ingested_at": ingested_at},
    )
    malformed = delivery.rows.malformed
    if sum(outcome.rows_quarantined for outcome in outcomes) > len(malformed):
        _quarantine_checked_rows(connection, table, delivery, ingested_at)
    if malformed:  # only ever from a single text file
        (_, outcome) = delivery.files[0]
        connection.register(
            "malformed_rows",
            pa.table(
                {
                    "line": [row.line for row in malformed],
                    "reason": [row.reason for row in malformed],
                    "record": [json.dumps(row.record, ensure_ascii=False) for row in malformed],
                }
            ),
        )
        connection.execute(
            """
            insert into raw.quarantine
            select ?, ?, ?, line, null, reason, record, ?, ? from malformed_rows
            """,
            [table.domain, table.name, outcome.source_file, outcome.file_hash, ingested_at],
        )
        connection.unregister("malformed_rows")
    for outcome in outcomes:
        _record_ledger(connection, outcome, ingested_at)


class DeliveryNotLandedError(Exception):
    """DuckDB refused a delivery's rows inside a transaction shared with other deliveries."""


def _open_file(
    connection: duckdb.DuckDBPyConnection,
    table: Table,
    profile: SourceProfile,
    path: Path,
    inbox: Path,
) -> tuple[FileOutcome, bool]:
    """The file's outcome so far, and whether it still has to be read. A file already ingested
    with the same content (and the same files it looks values up in) is settled here
    ("unchanged")."""
    lookups = find_lookup_files(path, profile.tables[table.name])
    outcome = FileOutcome(
        source_file=readable_name(path, inbox),
        table_name=table.name,
        domain=table.domain,
        file_hash=lookups.combined_hash(file_hash(path)),
        profile=profile.name,
        partition_date=partition_day_of(path),
        status="loaded",
    )
    current = _current_version(connection, outcome)
    if current and current[0] == outcome.file_hash:
        outcome.status = "unchanged"
        outcome.message = f"same content as the version ingested at {current[1]:%Y-%m-%d %H:%M:%S}"
        outcome.message += " UTC; nothing added"
        _record_ledger(connection, outcome, _now_utc())
        return outcome, False
    if current:
        outcome.status = "replaced"
    return outcome, True


def _read_file(
    connection: duckdb.DuckDBPyConnection,
    table: Table,
    profile: SourceProfile,
    path: Path,
    outcome: FileOutcome,
) -> Delivery | None:
    """The file as a delivery of its own (Parquet: its shape and row count only, DuckDB reads
    the rows), or None when it cannot be read (the file is rejected, saying why)."""
    mapping = profile.tables[table.name]
    try:
        lookup_rows = _read_lookups(path, mapping, profile)
        if path.suffix.lower() == ".parquet":
            shape, footer_rows = read_parquet_shape(path)
            # DuckDB's reader adds these two columns itself: such a file is read by pyarrow
            if not {"filename", "file_row_number"} & set(shape.headers):
                outcome.rows_read = footer_rows * mapping.rows_per_source_row
                delivery = Delivery(profile, [(path, outcome)], shape, footer_rows, lookup_rows)
                return delivery
        rows = read_source(path, _expected_headers(table, mapping), profile.encoding)
    except (UnreadableFileError, pa.ArrowException) as error:
        # pyarrow's own errors (a broken quote, a corrupt Parquet page) say what is wrong.
        _reject(connection, outcome, f"unreadable: {error}", outcome.status == "replaced")
        return None
    outcome.encoding = rows.encoding
    outcome.rows_read = (
        rows.data.num_rows * mapping.rows_per_source_row
        + len(rows.malformed)
        + sum(rows.skipped.values())
    )
    return Delivery(profile, [(path, outcome)], rows, lookup_rows=lookup_rows)


def _read_lookups(path: Path, mapping: TableMapping, profile: SourceProfile) -> dict[str, pa.Table]:
    """The rows of every export file the table's lookups read; UnreadableFileError when one
    is missing or cannot be read."""
    if not mapping.lookups:
        return {}
    found = find_lookup_files(path, mapping)
    if found.missing:
        wanted = "; ".join(f"{name} ({', '.join(globs)})" for name, globs in found.missing.items())
        raise UnreadableFileError(
            f"the profile looks values up in files that are not beside it in "
            f"{path.parent.name}/: {wanted}; deliver them together"
        )
    tables = {}
    for name, lookup_path in found.paths.items():
        keys = {lookup.key for lookup in mapping.lookups if name in lookup.files}
        try:
            rows = read_source(lookup_path, keys, profile.encoding)
        except UnreadableFileError as error:
            raise UnreadableFileError(f"its {name} file {lookup_path.name}: {error}") from error
        tables[name] = _named_table(rows)
    return tables


def _lookup_joins(
    connection: duckdb.DuckDBPyConnection, mapping: TableMapping, delivery: Delivery
) -> str:
    """Register the lookup files and return the joins that bring their values in; a
    lookup whose key the file lacks is a ValueError naming it."""
    relations = {}
    for name, rows in delivery.lookup_rows.items():
        relations[name] = f"lookup_file_{name}"
        connection.register(relations[name], rows)
        connection.register(name, rows)  # a lookup's own sql names the export's files so
    columns = source_columns(delivery.rows)
    joins = []
    for lookup in mapping.lookups:
        found = columns.get(lookup.on.strip().casefold())
        if found is None:
            raise ValueError(
                f"lookup {lookup.name} joins on column {lookup.on!r}, which the file lacks"
            )
        alias = quote(lookup.name)
        joins.append(
            f"left join {_lookup_relation(lookup, relations)} as {alias} "
            f"on {alias}._key = source.{quote(found[0])}"
        )
    return " ".join(joins)


def _forget_lookups(connection: duckdb.DuckDBPyConnection, delivery: Delivery) -> None:
    for name in delivery.lookup_rows:
        connection.unregister(f"lookup_file_{name}")
        connection.unregister(name)


def _land_delivery(
    connection: duckdb.DuckDBPyConnection,
    table: Table,
    delivery: Delivery,
    own_transaction: bool,
) -> list[FileOutcome]:
    """Check and land a delivery; never raises for bad input, says what happened per file.

    With own_transaction False the caller holds the transaction, and a delivery DuckDB
    refuses rolls it back and raises DeliveryNotLandedError: the caller lands its files one by
    one.
    """
    mapping = delivery.profile.tables[table.name]
    rows = delivery.rows
    outcomes = [outcome for _, outcome in delivery.files]
    branches = plan_branches(table, mapping, rows, params := Parameters())
    missing = missing_required(branches, mapping)
    if missing and rows.headers:
        for outcome in outcomes:
            outcome.missing_columns = missing
            message = f"missing required columns: {listed(missing)}"
            _reject(connection, outcome, message, outcome.status == "replaced")
        return outcomes
    not_provided = [c.name for c in table.columns if not is_provided(branches, c.name)]
    for path, outcome in delivery.files:
        used = _headers_used(delivery.profile, path.name, rows)
        outcome.extra_columns = [
            h for h in rows.headers if h.strip().casefold() not in used and h != SHEET_COLUMN
        ]
        outcome.not_provided = not_provided
    ingested_at = _now_utc()
    files = pa.table(
        {
            "path": [str(path) for path, _ in delivery.files],
            "source_file": [outcome.source_file for outcome in outcomes],
            "file_hash": [outcome.file_hash for outcome in outcomes],
        }
    )
    connection.register("delivery_files", files)
    if not delivery.is_parquet:
        (path, _) = delivery.files[0]
        incoming = rows.data.append_column("_line", pa.array(rows.lines, pa.int64()))
        incoming = incoming.append_column("_file", pa.array([str(path)] * len(rows.lines)))
        connection.register("incoming", incoming)
    # the source's zone is set before the transaction and put back after it ends, rolled back
    # or not: a statement in an aborted transaction would hide the error that aborted it
    with source_time_zone(connection, delivery.profile.timezone):
        try:
            if own_transaction:
                connection.begin()
            source = named_source_sql(rows, _incoming_sql(delivery, params))
            joins = _lookup_joins(connection, mapping, delivery)
            shaped = shaped_sql(table, mapping, branches, source, joins, params)
            check_rows(connection, table, branches, delivery.profile, params, ingested_at, shaped)
            _count_outcomes(connection, delivery)
            _land(connection, table, delivery, ingested_at)
            if own_transaction:
                connection.commit()
        except (duckdb.Error, pa.ArrowException, ValueError) as error:
            connection.rollback()
            if not own_transaction:
                raise DeliveryNotLandedError(str(error)) from error
            for outcome in outcomes:
                problem = _landing_problem(error)
                _reject(connection, outcome, problem, outcome.status == "replaced")
        finally:
            connection.unregister("delivery_files")
            if not delivery.is_parquet:
                connection.unregister("incoming")
            _forget_lookups(connection, delivery)
    return outcomes


def _landing_problem(error: Exception) -> str:
    """Why a delivery could not be landed, in words: a profile expression that names what the
    file lacks is the profile's mistake, not the file's."""
    first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
    if isinstance(error, duckdb.BinderException | duckdb.ParserException):
        return (
            "the profile's expressions do not fit this file "
            f"({first_line.removeprefix('Binder Error: ')}); check its sql: and skip: rules"
        )
    return f"could not be ingested: {first_line}"


def _count_outcomes(connection: duckdb.DuckDBPyConnection, delivery: Delivery) -> None:
    """Rows loaded, quarantined and skipped (by reason) of each file of the delivery."""
    counts: dict[str, list[int]] = {str(path): [0, 0, 0] for path, _ in delivery.files}
    reasons: dict[str, dict[str, int]] = {str(path): {} for path, _ in delivery.files}
    for path, reason, good, bad, skipped in connection.execute(
        """
        select
            _file,
            _skip_reason,
            count(*) filter (_reason is null and _skip_reason is null),
            count(*) filter (_reason is not null),
            count(*) filter (_skip_reason is not null),
        from checked_rows
        group by _file, _skip_reason
        """
    ).fetchall():
        for index, value in enumerate((good, bad, skipped)):
            counts[path][index] += value
        if reason is not None:
            reasons[path][reason] = skipped
    malformed = len(delivery.rows.malformed)
    for path, outcome in delivery.files:
        good, bad, skipped = counts[str(path)]
        # rows the reader passed over (a workbook's other sheets) count as skipped, by reason
        reasons[str(path)].update(delivery.rows.skipped)
        outcome.rows_loaded = good
        outcome.rows_quarantined = bad + malformed
        outcome.rows_skipped = skipped + sum(delivery.rows.skipped.values())
        outcome.skip_reasons = dict(sorted(reasons[str(path)].items(), key=lambda x: -x[1]))
        outcome.message = _message(outcome, delivery.rows)


def folder_domain(path: Path, inbox: Path) -> str | None:
    """The domain whose inbox folder holds the file (data/inbox/<domain>/...), if any."""
    parts = path.relative_to(inbox).parts
    return parts[0] if len(parts) > 1 and parts[0] in DOMAINS else None


def _is_lookup_file(path: Path, profiles: list[SourceProfile]) -> bool:
    return any(
        matches(path.name, globs) for profile in profiles for globs in lookup_files_of(profile)
    )


@dataclass
class Refused:
    """A file no run can read, refused once in the ledger with the reason (and again only
    when it changes)."""

    path: Path
    profile: str
    reason: str
    status: str = "rejected"  # or "not_claimed": no profile takes the file


NOT_CLAIMED = (
    "no source profile claims it: its name matches none of the profiles' files (data/profiles);"
    " add or fix a profile, or move the file out of the inbox. Nothing was read"
)


def _first_table_of(domain: str) -> str:
    return next(name for name, table in load_contract().items() if table.domain == domain)


def files_of_table(
    table: Table,
    inbox: Path,
    profiles: list[SourceProfile],
    days: set[date] | None,
    summary: IngestionSummary,
    refused: list[Refused] | None = None,
) -> list[tuple[Path, SourceProfile]]:
    """The table's inbox files of these days, each with the profile that claims it: files of
    simple profiles in the table's domain folder, files of an export anywhere in the inbox.

    A file no profile claims is listed in the summary (and the asset metadata) of the tables
    of its folder's domain (the orders tables for a folder that is not a domain), never
    skipped silently; a file a profile only looks values up in is not unclaimed. Files no run
    can read (a symbolic link, a day in the name that cannot be a delivery day) go to
    `refused`, whatever the days: a link nobody claims is refused by its domain's first table.
    """
    claimed = []
    for path in inbox_files(inbox):
        domain = folder_domain(path, inbox)
        profile = profile_for(path, domain, profiles)
        link = inbox_link(path)
        owner = domain or DOMAINS[0]
        unreadable = link or name_problem(path)
        if profile is None:
            if owner == table.domain and not _is_lookup_file(path, profiles):
                summary.unclaimed_files.append(readable_name(path, inbox))
                # in the ledger once, by the first table of its folder's domain
                if refused is not None and _first_table_of(owner) == table.name:
                    refused.append(
                        Refused(path, "", unreadable)
                        if unreadable
                        else Refused(path, "", NOT_CLAIMED, "not_claimed")
                    )
            continue
        mapping = profile.tables.get(table.name)
        if mapping is None or not mapping.claims(path.name):
            continue
        if not mapping.anywhere and domain != table.domain:
            continue
        problem = unreadable or _implausible_reason(path)
        if problem:
            if refused is not None:
                refused.append(Refused(path, profile.name, problem))
        elif days is None or partition_day_of(path) in days:
            claimed.append((path, profile))
    return claimed


def _implausible_reason(path: Path) -> str | None:
    day = implausible_day(path)
    if day is not None:
        return (
            f"the date in its name, {day}, cannot be a delivery day (2000-01-01 to a year "
            "from today): rename the file with the day it was exported"
        )
    first = settings.first_day_setting()
    if first and partition_day_of(path) < first:
        # no partition holds its day: said once, in the ledger, while the other days run
        dated = "the date in its name" if day_in_name(path) else "the day it was written"
        return (
            f"its delivery day ({dated}), {partition_day_of(path)}, is before the first "
            f"daily partition, {first} (OEX_FIRST_DAY): set OEX_FIRST_DAY earlier and run "
            "`oex import-history` to load it"
        )
    return None


def ingest_table(
    table_name: str,
    connection: duckdb.DuckDBPyConnection,
    inbox: Path | None = None,
    partition_days: Iterable[date] | None = None,
    profiles: list[SourceProfile] | None = None,
) -> IngestionSummary:
    """Ingest the inbox files of one contract table whose day is in partition_days (None: all)."""
    table = load_contract()[table_name]
    inbox = (inbox or settings.inbox_dir()).resolve()
    profiles = profiles if profiles is not None else load_profiles(settings.profiles_dir())
    days = set(partition_days) if partition_days is not None else None
    ensure_tables(connection, table)
    record_profile_inputs(connection, profiles)
    summary = IngestionSummary(table_name)
    refused: list[Refused] = []
    claimed = files_of_table(table, inbox, profiles, days, summary, refused)
    summary.files.extend(_ingest_in_transactions(connection, table, claimed, inbox))
    summary.files.extend(_refuse_once(connection, table, refused, inbox))
    return summary


def _refuse_once(
    connection: duckdb.DuckDBPyConnection, table: Table, files: list[Refused], inbox: Path
) -> list[FileOutcome]:
    """Reject each refused file in the ledger, once per version, whatever partition the run
    covers: the next run does not repeat it, a changed file is refused again."""
    outcomes = []
    for file in files:
        outcome = FileOutcome(
            source_file=readable_name(file.path, inbox),
            table_name=table.name,
            domain=table.domain,
            file_hash=file_hash(file.path),
            profile=file.profile,
            partition_date=partition_day_of(file.path),
            status="rejected",
        )
        current = _current_version(connection, outcome)
        already = connection.execute(
            "select count(*) from raw.ingested_files where source_file = ? and table_name = ? "
            "and file_hash = ? and status = ?",
            [outcome.source_file, table.name, outcome.file_hash, file.status],
        ).fetchall()[0][0]
        if already:
            continue
        if file.status == "rejected":
            outcomes.append(_reject(connection, outcome, file.reason, current is not None))
        else:
            outcome.status, outcome.message = file.status, f"{file.reason}."
            _record_ledger(connection, outcome, _now_utc())
            outcomes.append(outcome)
    return outcomes


def _ingest_in_transactions(
    connection: duckdb.DuckDBPyConnection,
    table: Table,
    claimed: list[tuple[Path, SourceProfile]],
    inbox: Path,
) -> list[FileOutcome]:
    """Ingest the files in order: Parquet files of one shape in deliveries of up to
    ROWS_PER_STATEMENT rows, other files one delivery each, committing whenever
    ROWS_PER_TRANSACTION rows are pending.

    If DuckDB refuses a delivery, the open transaction is rolled back and every file it held
    is ingested again in a transaction of its own, so only a refused file is rejected.
    """
    outcomes: list[FileOutcome] = []
    uncommitted: list[tuple[Path, SourceProfile, FileOutcome]] = []
    forming: Delivery | None = None

    def commit() -> None:
        connection.commit()
        outcomes.extend(outcome for _, _, outcome in uncommitted)
        uncommitted.clear()
        connection.begin()

    def land(delivery: Delivery) -> None:
        try:
            _land_delivery(connection, table, delivery, own_transaction=False)
        except DeliveryNotLandedError:  # the shared transaction is rolled back
            retried = [(path, profile) for path, profile, _ in uncommitted]
            retried += [(path, delivery.profile) for path, _ in delivery.files]
            uncommitted.clear()
            outcomes.extend(_ingest_alone(connection, table, *file, inbox) for file in retried)
            connection.begin()
            return
        uncommitted.extend((path, delivery.profile, outcome) for path, outcome in delivery.files)
        if sum(outcome.rows_read for _, _, outcome in uncommitted) >= ROWS_PER_TRANSACTION:
            commit()

    connection.begin()
    for path, profile in claimed:
        outcome, to_read = _open_file(connection, table, profile, path, inbox)
        delivery = _read_file(connection, table, profile, path, outcome) if to_read else None
        if delivery is None:  # settled: unchanged or unreadable
            uncommitted.append((path, profile, outcome))
            continue
        if forming is not None and forming.accepts(profile, delivery.rows, delivery.parquet_rows):
            forming.files.extend(delivery.files)
            forming.parquet_rows += delivery.parquet_rows
            continue
        if forming is not None:
            land(forming)
            forming = None
        if delivery.is_parquet:
            forming = delivery
        else:
            land(delivery)
    if forming is not None:
        land(forming)
    connection.commit()
    outcomes.extend(outcome for _, _, outcome in uncommitted)
    return outcomes


def _ingest_alone(
    connection: duckdb.DuckDBPyConnection,
    table: Table,
    path: Path,
    profile: SourceProfile,
    inbox: Path,
) -> FileOutcome:
    """One file in its own transaction (after its shared transaction was refused)."""
    outcome, to_read = _open_file(connection, table, profile, path, inbox)
    delivery = _read_file(connection, table, profile, path, outcome) if to_read else None
    if delivery is not None:
        _land_delivery(connection, table, delivery, own_transaction=True)
    return outcome


def unaccounted_files(
    connection: duckdb.DuckDBPyConnection, table_name: str, source_files: list[str]
) -> list[dict]:
    """Files whose current version's rows_read differs from the rows found in raw and in
    quarantine plus the rows its profile skipped (counted in the ledger, with reasons)."""
    if not source_files:
        return []
    table = load_contract()[table_name]
    return (
        connection.execute(
            f"""
        with current_versions as (
            select source_file, rows_read, coalesce(rows_skipped, 0) as rows_skipped,
            from raw.ingested_files
            where table_name = $table and status in ('loaded', 'replaced')
                and list_contains($files, source_file)
            qualify row_number() over (partition by source_file order by ingested_at desc) = 1
        ),
        landed as (
            select _source_file as source_file, count(*) as rows_loaded,
            from raw.{table.name}
            where list_contains($files, _source_file)
            group by all
        ),
        quarantined as (
            select source_file, count(*) as rows_quarantined,
            from raw.quarantine
            where table_name = $table and list_contains($files, source_file)
            group by all
        ),
        final as (
            select
                current_versions.source_file,
                current_versions.rows_read,
                current_versions.rows_skipped,
                coalesce(landed.rows_loaded, 0) as rows_loaded,
                coalesce(quarantined.rows_quarantined, 0) as rows_quarantined,
            from current_versions
            left join landed using (source_file)
            left join quarantined using (source_file)
        )
        select * from final where rows_read <> rows_loaded + rows_quarantined + rows_skipped
        """,
            {"table": table_name, "files": source_files},
        )
        .fetch_df()
        .to_dict("records")
    )
