"""Export every table of the marts schema to <marts_dir>/<name>.parquet.

The dashboards and the merchant reports read these files, never the warehouse, so a reader
is never blocked by (or sees a half-built state of) a running build. Each file is written to
a temporary name and renamed over the old one: os.replace is atomic on one filesystem, so a
reader sees the old file or the new one, never half a file.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from pipelines import settings

MARTS_SCHEMA = "marts"


def _mart_tables(connection: duckdb.DuckDBPyConnection) -> list[str]:
    rows = connection.execute(
        "select table_name from information_schema.tables"
        " where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
        [MARTS_SCHEMA],
    ).fetchall()
    return [name for (name,) in rows]


def _quote(identifier: str) -> str:
    # table names come from the catalog, not from a user; quoting keeps odd names harmless
    return '"' + identifier.replace('"', '""') + '"'


def export_marts(warehouse_path: Path, marts_dir: Path) -> dict[str, int]:
    """Write each marts table to marts_dir/<name>.parquet; returns rows written per table."""
    marts_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    connection = duckdb.connect(
        str(warehouse_path), read_only=True, config=settings.duckdb_reader_config()
    )
    try:
        for name in _mart_tables(connection):
            target = marts_dir / f"{name}.parquet"
            temporary = marts_dir / f".{name}.parquet.tmp"
            relation = f"{MARTS_SCHEMA}.{_quote(name)}"
            # COPY takes no bound parameter for its file name: it is ours, built from the
            # catalog name, with quotes doubled
            path_literal = "'" + str(temporary).replace("'", "''") + "'"
            connection.execute(
                f"copy (select * from {relation}) to {path_literal} (format parquet)"
            )
            os.replace(temporary, target)
            (count,) = connection.execute(f"select count(*) from {relation}").fetchone()
            written[name] = int(count)
    finally:
        connection.close()
    return written
