"""The raw tables as Parquet files, the input of the dbt build on Spark (OEX_ENGINE=spark).

Ingestion lands every file in the DuckDB warehouse on both engines: the ledger, the
quarantine, the row accounting and the replacement of corrected files stay one transaction
per delivery there. Spark cannot read a DuckDB file, so after ingestion the raw schema is
copied here, one folder per table, which the dbt project declares as its sources on Spark
(macros/spark_strategies.sql, register_raw_sources):

    <lake>/raw/orders/2026-11-01.parquet     rows ingested on that day (UTC)
    <lake>/raw/orders/2026-11-02.parquet
    <lake>/raw/orders/.export.json           what each file holds, to know which changed
    <lake>/raw/ingested_files/all.parquet    the bookkeeping tables, small: whole each time

A table of the contract is split by the day its rows were ingested: a daily run adds rows to
one day only, so it rewrites one file per table, plus the days whose rows a corrected
re-delivery removed. A day's file is rewritten when its row count or latest ingestion time
differs from what the last export wrote (rows in raw are only ever added or deleted, never
updated, and an addition always carries a later ingestion time). Plain files, not Hive
`day=` folders: a partition column would add a column to every staged table on Spark that
DuckDB does not have. Files are written under a hidden name and renamed into place; Spark
skips names starting with `.` or `_`.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines import settings

RAW_SCHEMA = "raw"
DAY_COLUMN = "_ingested_at"  # tables with it are split by day; the others are written whole
MANIFEST = ".export.json"
WHOLE_TABLE = "all.parquet"
EMPTY_TABLE = "empty.parquet"  # a table without rows still needs a file: Spark reads its columns


@dataclass
class RawTableExport:
    """What one export did to one table's folder."""

    rows: int = 0
    files_written: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _path_literal(path: Path) -> str:
    # COPY takes no bound parameter for its file name: ours, built from catalog names
    return "'" + str(path).replace("'", "''") + "'"


def _columns(connection: duckdb.DuckDBPyConnection, table: str) -> list[list[str]]:
    rows = connection.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = ? and table_name = ? order by ordinal_position",
        [RAW_SCHEMA, table],
    ).fetchall()
    return [[name, data_type] for name, data_type in rows]


def _tables(connection: duckdb.DuckDBPyConnection) -> list[str]:
    rows = connection.execute(
        "select table_name from information_schema.tables"
        " where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
        [RAW_SCHEMA],
    ).fetchall()
    return [name for (name,) in rows]


def _write(
    connection: duckdb.DuckDBPyConnection, query: str, target: Path, parameters: list | None = None
) -> None:
    """COPY a query to target through a hidden file renamed into place."""
    temporary = target.with_name(f".{target.name}.tmp")
    connection.execute(
        f"copy ({query}) to {_path_literal(temporary)} (format parquet)", parameters or []
    )
    os.replace(temporary, target)


def _read_manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def _write_manifest(folder: Path, manifest: dict) -> None:
    temporary = folder / f"{MANIFEST}.tmp"
    temporary.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(temporary, folder / MANIFEST)


def _remove(folder: Path, names: set[str], export: RawTableExport) -> None:
    for name in sorted(names):
        (folder / name).unlink(missing_ok=True)
        export.files_removed.append(name)


def _export_whole(
    connection: duckdb.DuckDBPyConnection, table: str, folder: Path
) -> RawTableExport:
    export = RawTableExport()
    relation = f"{RAW_SCHEMA}.{_quote(table)}"
    _write(connection, f"select * from {relation}", folder / WHOLE_TABLE)
    export.files_written.append(WHOLE_TABLE)
    (export.rows,) = connection.execute(f"select count(*) from {relation}").fetchone()
    stale = {path.name for path in folder.glob("*.parquet")} - {WHOLE_TABLE}
    _remove(folder, stale, export)
    return export


def _day_files(folder: Path) -> dict[str, list[Path]]:
    """The day files in a table's folder, by day ('2026-11-01.parquet' or, for a day that
    DuckDB wrote in several files, '2026-11-01.1.parquet' and so on)."""
    days: dict[str, list[Path]] = {}
    for path in folder.glob("*.parquet"):
        if path.name != EMPTY_TABLE:
            days.setdefault(path.name[:10], []).append(path)
    return days


def _export_by_day(
    connection: duckdb.DuckDBPyConnection, table: str, folder: Path, columns: list[list[str]]
) -> RawTableExport:
    export = RawTableExport()
    relation = f"{RAW_SCHEMA}.{_quote(table)}"
    day = f"strftime(coalesce({DAY_COLUMN}, timestamp '1970-01-01'), '%Y-%m-%d')"
    signatures = {
        name: [rows, str(latest)]
        for name, rows, latest in connection.execute(
            f"select {day}, count(*), max({DAY_COLUMN}) from {relation} group by 1"
        ).fetchall()
    }
    previous = _read_manifest(folder)
    # another schema (a column added by an upgrade) rewrites every file: Spark takes a folder's
    # columns from one of its files, so all must agree
    written_before = previous.get("days", {}) if previous.get("columns") == columns else {}
    on_disk = _day_files(folder)
    changed = sorted(
        name
        for name, signature in signatures.items()
        if written_before.get(name) != signature or name not in on_disk
    )
    if changed:
        # one scan for every changed day: DuckDB writes a folder per day, moved into place
        staging = folder / ".export.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        connection.execute(
            f"copy (select *, {day} as _export_day from {relation}"
            f" where {day} in (select unnest(?::varchar[])))"
            f" to {_path_literal(staging)} (format parquet, partition_by (_export_day))",
            [changed],
        )
        for name in changed:
            written = sorted((staging / f"_export_day={name}").glob("*.parquet"))
            for old in on_disk.get(name, []):
                old.unlink()
            for index, path in enumerate(written):
                target = f"{name}.parquet" if index == 0 else f"{name}.{index}.parquet"
                os.replace(path, folder / target)
                export.files_written.append(target)
        shutil.rmtree(staging, ignore_errors=True)
    export.rows = sum(rows for rows, _ in signatures.values())
    if signatures:
        (folder / EMPTY_TABLE).unlink(missing_ok=True)
    else:
        _write(connection, f"select * from {relation} limit 0", folder / EMPTY_TABLE)
        export.files_written.append(EMPTY_TABLE)
    for name in sorted(set(on_disk) - set(signatures)):  # days a re-delivery emptied
        for path in on_disk[name]:
            path.unlink()
            export.files_removed.append(path.name)
    _write_manifest(folder, {"columns": columns, "days": signatures})
    return export


def export_raw_tables(warehouse_path: Path, raw_dir: Path) -> dict[str, RawTableExport]:
    """Bring raw_dir up to date with the warehouse's raw schema, every table of it; returns
    what was written per table. Reads the warehouse only (a read-only connection)."""
    connection = duckdb.connect(
        str(warehouse_path), read_only=True, config=settings.duckdb_reader_config()
    )
    try:
        exports = {}
        for table in _tables(connection):
            folder = raw_dir / table
            folder.mkdir(parents=True, exist_ok=True)
            columns = _columns(connection, table)
            if any(name == DAY_COLUMN for name, _ in columns):
                exports[table] = _export_by_day(connection, table, folder, columns)
            else:
                exports[table] = _export_whole(connection, table, folder)
        return exports
    finally:
        connection.close()
