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

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines import settings
from pipelines.contract import LINEAGE_COLUMNS, Table, load_contract
from pipelines.defs.ingestion.files import file_hash, inbox_files, partition_day_of
from pipelines.defs.ingestion.profiles import (
    SourceProfile,
    TableMapping,
    load_profiles,
    profile_for,
)
from pipelines.defs.ingestion.reading import SourceRows, UnreadableFileError, read_source
from pipelines.defs.ingestion.validation import (
    Parameters,
    check_rows,
    local_time_zone,
    missing_required,
    plan_columns,
    sql_type,
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
)
"""
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
CURRENT_STATUSES = ("loaded", "replaced")
ROWS_PER_TRANSACTION = 2_000_000


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
    encoding: str | None = None
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)


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
    connection.execute(LEDGER_DDL)
    connection.execute(QUARANTINE_DDL)


def _record_ledger(
    connection: duckdb.DuckDBPyConnection, outcome: FileOutcome, ingested_at: datetime
) -> None:
    connection.execute(
        "insert into raw.ingested_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            outcome.message,
            ingested_at,
        ],
    )


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
    _record_ledger(connection, outcome, _now_utc())
    return outcome


def _headers_used(profile: SourceProfile, file_name: str, rows: SourceRows) -> set[str]:
    """Folded headers that some table of the profile takes from this file."""
    used: set[str] = set()
    for mapping in profile.tables.values():
        if mapping.claims(file_name):
            table = load_contract()[mapping.table]
            for plan in plan_columns(table, mapping, rows, Parameters()):
                used |= plan.headers_used
    return used


def _expected_headers(profile: SourceProfile, table: Table, mapping: TableMapping) -> set[str]:
    """Header names to look for when a title row may sit above the header."""

    def names(spec: object) -> Iterable[str]:
        if isinstance(spec, str):
            yield spec
        elif isinstance(spec, dict):
            for key in ("split", "join", "first_of"):
                items = spec.get(key)
                for item in [items] if isinstance(items, str | dict) else items or []:
                    yield from names(item)

    return {name for column in table.columns for name in names(mapping.source_of(column.name))}


def _message(outcome: FileOutcome, rows: SourceRows) -> str:
    parts = [f"{outcome.rows_loaded} rows loaded, {outcome.rows_quarantined} quarantined"]
    if rows.encoding:
        parts.append(f"read as {rows.encoding}")
    if outcome.rows_read == 0:
        parts.append("the file is empty: no data rows")
    if outcome.extra_columns:
        parts.append(f"columns not in the contract, ignored: {', '.join(outcome.extra_columns)}")
    if outcome.status == "replaced":
        parts.append("replaces the rows of its earlier version")
    return "; ".join(parts)


def _quarantine_checked_rows(
    connection: duckdb.DuckDBPyConnection,
    rows: SourceRows,
    outcome: FileOutcome,
    ingested_at: datetime,
) -> None:
    """Rows that broke a rule, with the row as it was in the file (original headers)."""
    params = Parameters()
    record = ", ".join(f"{params(header)}, c{index}" for index, header in enumerate(rows.headers))
    record_sql = f"cast(json_object({record}) as varchar)" if record else "'{}'"
    connection.execute(
        f"""
        insert into raw.quarantine
        select
            {params(outcome.domain)}, {params(outcome.table_name)}, {params(outcome.source_file)},
            checked._line, checked._column, checked._reason, {record_sql},
            {params(outcome.file_hash)}, {params(ingested_at)},
        from checked_rows as checked
        inner join incoming using (_line)
        where checked._reason is not null
        order by checked._line
        """,
        params.values,
    )


def _land(
    connection: duckdb.DuckDBPyConnection,
    table: Table,
    rows: SourceRows,
    outcome: FileOutcome,
    ingested_at: datetime,
) -> None:
    """Write one file's rows, quarantine and ledger row; the caller holds the transaction."""
    if outcome.status == "replaced":
        connection.execute(
            f"delete from raw.{table.name} where _source_file = ?", [outcome.source_file]
        )
        connection.execute(
            "delete from raw.quarantine where source_file = ? and table_name = ?",
            [outcome.source_file, outcome.table_name],
        )
    columns = ", ".join(table.column_names)
    typed = ", ".join(f"t_{name}" for name in table.column_names)
    lineage = [outcome.source_file, outcome.file_hash, ingested_at]
    connection.execute(
        f"""
        insert into raw.{table.name} ({columns}, _source_file, _source_line, _file_hash,
            _ingested_at)
        select {typed}, ?, _line, ?, ? from checked_rows where _reason is null
        """,
        [lineage[0], lineage[1], lineage[2]],
    )
    if outcome.rows_quarantined > len(rows.malformed):
        _quarantine_checked_rows(connection, rows, outcome, ingested_at)
    if rows.malformed:
        malformed = pa.table(
            {
                "line": [row.line for row in rows.malformed],
                "reason": [row.reason for row in rows.malformed],
                "record": [json.dumps(row.record, ensure_ascii=False) for row in rows.malformed],
            }
        )
        connection.register("malformed_rows", malformed)
        connection.execute(
            """
            insert into raw.quarantine
            select ?, ?, ?, line, null, reason, record, ?, ? from malformed_rows
            """,
            [
                outcome.domain,
                outcome.table_name,
                outcome.source_file,
                outcome.file_hash,
                ingested_at,
            ],
        )
        connection.unregister("malformed_rows")
    _record_ledger(connection, outcome, ingested_at)


class FileNotLandedError(Exception):
    """DuckDB refused a file's rows inside a transaction shared with other files."""


def ingest_file(
    connection: duckdb.DuckDBPyConnection,
    table: Table,
    profile: SourceProfile,
    path: Path,
    inbox: Path,
    own_transaction: bool = True,
) -> FileOutcome:
    """Ingest one file into one table; never raises for bad input, says what happened.

    With own_transaction False the caller holds the transaction, and a file DuckDB refuses
    raises FileNotLandedError: the caller rolls back and takes the files one by one.
    """
    mapping = profile.tables[table.name]
    outcome = FileOutcome(
        source_file=path.relative_to(inbox).as_posix(),
        table_name=table.name,
        domain=table.domain,
        file_hash=file_hash(path),
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
        return outcome
    if current:
        outcome.status = "replaced"
    try:
        rows = read_source(path, _expected_headers(profile, table, mapping), profile.encoding)
    except (UnreadableFileError, pa.ArrowException) as error:
        # pyarrow's own errors (a broken quote, a corrupt Parquet page) say what is wrong.
        return _reject(connection, outcome, f"unreadable: {error}", bool(current))
    outcome.encoding = rows.encoding
    plans = plan_columns(table, mapping, rows, params := Parameters())
    outcome.missing_columns = missing_required(plans, mapping)
    if outcome.missing_columns and rows.headers:
        missing = ", ".join(outcome.missing_columns)
        return _reject(connection, outcome, f"missing required columns: {missing}", bool(current))
    used = _headers_used(profile, path.name, rows)
    outcome.extra_columns = [h for h in rows.headers if h.strip().casefold() not in used]
    ingested_at = _now_utc()
    incoming = rows.data.append_column("_line", pa.array(rows.lines, pa.int64()))
    connection.register("incoming", incoming)
    try:
        if own_transaction:
            connection.begin()
        check_rows(connection, table, plans, profile, params, ingested_at)
        good, bad = connection.execute(
            "select count(*) filter (_reason is null), count(*) filter (_reason is not null) "
            "from checked_rows"
        ).fetchall()[0]
        outcome.rows_loaded = good
        outcome.rows_quarantined = bad + len(rows.malformed)
        outcome.rows_read = rows.rows_read
        outcome.message = _message(outcome, rows)
        _land(connection, table, rows, outcome, ingested_at)
        if own_transaction:
            connection.commit()
    except (duckdb.Error, pa.ArrowException) as error:
        if not own_transaction:
            raise FileNotLandedError(str(error)) from error
        connection.rollback()
        return _reject(connection, outcome, f"could not be ingested: {error}", bool(current))
    finally:
        connection.unregister("incoming")
    return outcome


def files_of_table(
    table: Table,
    inbox: Path,
    profiles: list[SourceProfile],
    days: set[date] | None,
    summary: IngestionSummary,
) -> list[tuple[Path, SourceProfile]]:
    """The table's inbox files of these days, each with the profile that claims it.

    A file no profile claims is listed in the summary (and the asset metadata), never skipped
    silently.
    """
    claimed = []
    for path in inbox_files(inbox, table.domain):
        profile = profile_for(path, table.domain, profiles)
        if profile is None:
            summary.unclaimed_files.append(path.relative_to(inbox).as_posix())
            continue
        mapping = profile.tables.get(table.name)
        if mapping is None or not mapping.claims(path.name):
            continue
        if days is None or partition_day_of(path) in days:
            claimed.append((path, profile))
    return claimed


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
    summary = IngestionSummary(table_name)
    with local_time_zone(connection):
        claimed = files_of_table(table, inbox, profiles, days, summary)
        summary.files.extend(_ingest_in_transactions(connection, table, claimed, inbox))
    return summary


def _ingest_in_transactions(
    connection: duckdb.DuckDBPyConnection,
    table: Table,
    claimed: list[tuple[Path, SourceProfile]],
    inbox: Path,
) -> list[FileOutcome]:
    """Ingest the files in order, committing whenever ROWS_PER_TRANSACTION rows are pending.

    If DuckDB refuses a file, the open transaction is rolled back and its files are ingested
    again one transaction each, so only the refused file is rejected.
    """
    outcomes: list[FileOutcome] = []
    pending: list[tuple[Path, SourceProfile, FileOutcome]] = []

    def commit() -> None:
        connection.commit()
        outcomes.extend(outcome for _, _, outcome in pending)
        pending.clear()

    connection.begin()
    for path, profile in claimed:
        try:
            outcome = ingest_file(connection, table, profile, path, inbox, own_transaction=False)
        except FileNotLandedError:
            connection.rollback()
            for retried_path, retried_profile in [(p, f) for p, f, _ in pending] + [
                (path, profile)
            ]:
                outcomes.append(ingest_file(connection, table, retried_profile, retried_path, inbox))
            pending.clear()
            connection.begin()
            continue
        pending.append((path, profile, outcome))
        if sum(outcome.rows_read for _, _, outcome in pending) >= ROWS_PER_TRANSACTION:
            commit()
            connection.begin()
    commit()
    return outcomes


def unaccounted_files(
    connection: duckdb.DuckDBPyConnection, table_name: str, source_files: list[str]
) -> list[dict]:
    """Files whose current version's rows_read differs from the rows found in raw + quarantine."""
    if not source_files:
        return []
    table = load_contract()[table_name]
    return (
        connection.execute(
            f"""
        with current_versions as (
            select source_file, rows_read,
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
                coalesce(landed.rows_loaded, 0) as rows_loaded,
                coalesce(quarantined.rows_quarantined, 0) as rows_quarantined,
            from current_versions
            left join landed using (source_file)
            left join quarantined using (source_file)
        )
        select * from final where rows_read <> rows_loaded + rows_quarantined
        """,
            {"table": table_name, "files": source_files},
        )
        .fetch_df()
        .to_dict("records")
    )
