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
from pipelines.defs.ingestion.reading import (
    SourceRows,
    UnreadableFileError,
    read_parquet_shape,
    read_source,
)
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


@dataclass
class Delivery:
    """Files of one table that one statement lands: a single file, or consecutive Parquet
    files of one profile and one schema, which DuckDB reads together and in parallel.

    rows: a single file's rows; for Parquet the shared headers and schema only (no rows)."""

    profile: SourceProfile
    files: list[tuple[Path, FileOutcome]]
    rows: SourceRows
    parquet_rows: int = 0  # rows of the Parquet files, from their footers

    @property
    def is_parquet(self) -> bool:
        return self.parquet_rows > 0

    def accepts(self, profile: SourceProfile, shape: SourceRows, rows: int) -> bool:
        """Whether a Parquet file of this shape joins the delivery."""
        return (
            self.is_parquet
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
            checked._line, checked._column, checked._reason, {record_sql},
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
        select {typed}, files.source_file, checked._line, files.file_hash, $ingested_at
        from checked_rows as checked
        inner join delivery_files as files on checked._file = files.path
        where checked._reason is null
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
    with the same content is settled here ("unchanged")."""
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
        if path.suffix.lower() == ".parquet":
            shape, footer_rows = read_parquet_shape(path)
            # DuckDB's reader adds these two columns itself: such a file is read by pyarrow
            if not {"filename", "file_row_number"} & set(shape.headers):
                outcome.rows_read = footer_rows
                return Delivery(profile, [(path, outcome)], shape, parquet_rows=footer_rows)
        rows = read_source(path, _expected_headers(profile, table, mapping), profile.encoding)
    except (UnreadableFileError, pa.ArrowException) as error:
        # pyarrow's own errors (a broken quote, a corrupt Parquet page) say what is wrong.
        _reject(connection, outcome, f"unreadable: {error}", outcome.status == "replaced")
        return None
    outcome.encoding = rows.encoding
    outcome.rows_read = rows.rows_read
    return Delivery(profile, [(path, outcome)], rows)


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
    plans = plan_columns(table, mapping, rows, params := Parameters())
    missing = missing_required(plans, mapping)
    if missing and rows.headers:
        listed = ", ".join(missing)
        for outcome in outcomes:
            outcome.missing_columns = missing
            _reject(
                connection,
                outcome,
                f"missing required columns: {listed}",
                outcome.status == "replaced",
            )
        return outcomes
    for path, outcome in delivery.files:
        used = _headers_used(delivery.profile, path.name, rows)
        outcome.extra_columns = [h for h in rows.headers if h.strip().casefold() not in used]
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
    try:
        if own_transaction:
            connection.begin()
        source = _incoming_sql(delivery, params)
        check_rows(connection, table, plans, delivery.profile, params, ingested_at, source)
        counts = dict.fromkeys(files.column("path").to_pylist(), (0, 0))
        for path, good, bad in connection.execute(
            "select _file, count(*) filter (_reason is null), "
            "count(*) filter (_reason is not null) from checked_rows group by _file"
        ).fetchall():
            counts[path] = (good, bad)
        for path, outcome in delivery.files:
            good, bad = counts[str(path)]
            outcome.rows_loaded = good
            outcome.rows_quarantined = bad + len(rows.malformed)
            outcome.message = _message(outcome, rows)
        _land(connection, table, delivery, ingested_at)
        if own_transaction:
            connection.commit()
    except (duckdb.Error, pa.ArrowException) as error:
        connection.rollback()
        if not own_transaction:
            raise DeliveryNotLandedError(str(error)) from error
        for outcome in outcomes:
            _reject(
                connection,
                outcome,
                f"could not be ingested: {error}",
                outcome.status == "replaced",
            )
    finally:
        connection.unregister("delivery_files")
        if not delivery.is_parquet:
            connection.unregister("incoming")
    return outcomes


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
