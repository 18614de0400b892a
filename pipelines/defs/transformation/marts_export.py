"""Export every table of the marts schema as one published set of Parquet files.

The dashboards and the merchant reports read these files, never the warehouse, so a reader
is never blocked by (or sees a half-built state of) a running build. A build's marts are
published as a whole: every file is written to a new folder, and only then is the `current`
link switched to it. Readers resolve the link once (settings.published_marts_dir) and take
every file from the folder they got, so they see one build's marts or the previous build's,
never a mix, even when the disk fills half-way through an export:

    marts_dir/
        current -> builds/2026-11-03T060512.123456Z    switched last, atomically
        builds/2026-11-03T060512.123456Z/<name>.parquet  the published set
        builds/2026-11-02T060455.654321Z/<name>.parquet  the previous set, for readers still on it
        asset_checks.parquet                              written by check runs, not here
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines import settings

MARTS_SCHEMA = "marts"


class MartsExportError(RuntimeError):
    """The export stopped before publishing: the previously published marts stay current."""


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


def _copy_table(connection: duckdb.DuckDBPyConnection, name: str, target: Path) -> int:
    """Write one marts table to target; returns its rows."""
    relation = f"{MARTS_SCHEMA}.{_quote(name)}"
    # COPY takes no bound parameter for its file name: it is ours, built from the catalog
    # name, with quotes doubled
    path_literal = "'" + str(target).replace("'", "''") + "'"
    connection.execute(f"copy (select * from {relation}) to {path_literal} (format parquet)")
    (count,) = connection.execute(f"select count(*) from {relation}").fetchone()
    return int(count)


def _write_build(warehouse_path: Path, build: Path) -> dict[str, int]:
    connection = duckdb.connect(
        str(warehouse_path), read_only=True, config=settings.duckdb_reader_config()
    )
    try:
        return {
            name: _copy_table(connection, name, build / f"{name}.parquet")
            for name in _mart_tables(connection)
        }
    finally:
        connection.close()


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _flush_to_disk(build: Path) -> None:
    # On some file systems (network ones, those that allocate blocks late) a full disk shows
    # only when the data is flushed; and `current` must never point at files that a crash
    # right after the switch could leave empty.
    for path in build.iterdir():
        _fsync(path)
    _fsync(build)


def _new_build_folder(marts_dir: Path) -> Path:
    builds = marts_dir / settings.MARTS_BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    # named by when it was exported, which is what a person looking at the folder asks
    build = builds / datetime.now(UTC).strftime("%Y-%m-%dT%H%M%S.%fZ")
    build.mkdir()  # never an existing folder (a clock set back): it may be the published one
    return build


def _previous_build(marts_dir: Path) -> Path | None:
    """The build folder published now, before this export; None for a plain folder."""
    published = settings.published_marts_dir(marts_dir).resolve()
    builds = (marts_dir / settings.MARTS_BUILDS).resolve()
    return published if published.parent == builds else None


def _switch_current(marts_dir: Path, build: Path) -> None:
    # A link rather than a small file naming the build: the operating system resolves it, so
    # any tool (DuckDB's command line, a spreadsheet) opening current/<name>.parquet reads the
    # published set without our code, and renaming a link over another is as atomic as
    # renaming a file. Its target is relative, so the marts folder can be moved or copied.
    temporary = marts_dir / f".{settings.MARTS_CURRENT}.tmp"
    temporary.unlink(missing_ok=True)  # left by an export killed between these lines
    temporary.symlink_to(build.relative_to(marts_dir))
    try:
        os.replace(temporary, marts_dir / settings.MARTS_CURRENT)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def _remove_superseded(
    marts_dir: Path, build: Path, previous: Path | None, tables: list[str]
) -> None:
    """Remove every build but this one and the previous one (a reader that resolved it a
    moment ago still finds its files): older sets, and folders left half-written by an
    export that was killed (one that failed removed its own)."""
    keep = {build.name, previous.name if previous else None}
    for folder in (marts_dir / settings.MARTS_BUILDS).iterdir():
        if folder.name not in keep and folder.is_dir() and not folder.is_symlink():
            # only disk space is at stake: what is left here goes with the next export
            shutil.rmtree(folder, ignore_errors=True)
    if previous is not None:
        # The loose files of the layout before builds/ were at most the set before the
        # previous one: no reader still holds them.
        for name in tables:
            (marts_dir / f"{name}.parquet").unlink(missing_ok=True)
            (marts_dir / f".{name}.parquet.tmp").unlink(missing_ok=True)


def export_marts(warehouse_path: Path, marts_dir: Path) -> dict[str, int]:
    """Write every marts table to a new build folder under marts_dir, then publish that folder
    as the current set; returns rows written per table. On any failure before the switch the
    half-written folder is removed and the previous set stays published."""
    return _publish(marts_dir, lambda build: _write_build(warehouse_path, build))


def spark_mart_folders(spark_warehouse: Path) -> dict[str, Path]:
    """The folders of the marts tables a dbt build on Spark wrote (Spark keeps a managed
    table of schema s in <spark.sql.warehouse.dir>/s.db/<table>/); never a table of dbt's own
    working (`<model>__dbt_tmp`, `<model>__oex_next`)."""
    schema = spark_warehouse / f"{MARTS_SCHEMA}.db"
    if not schema.is_dir():
        raise MartsExportError(f"No marts were built on Spark: {schema} does not exist.")
    return {
        folder.name: folder
        for folder in sorted(schema.iterdir())
        if folder.is_dir() and "__" not in folder.name and not folder.name.startswith((".", "_"))
    }


def _copy_spark_table(connection: duckdb.DuckDBPyConnection, folder: Path, target: Path) -> int:
    """Write one Spark table's Parquet files as one file, with the types the DuckDB export
    writes: Spark stores timestamps as instants (read back as `timestamp with time zone`),
    the marts as naive UTC times."""
    files = str(folder / "*.parquet")
    relation = "read_parquet(?)"
    described = connection.execute(f"describe select * from {relation}", [files]).fetchall()
    columns = ", ".join(
        f"cast({_quote(name)} as timestamp) as {_quote(name)}"
        if data_type == "TIMESTAMP WITH TIME ZONE"
        else _quote(name)
        for name, data_type, *_ in described
    )
    path_literal = "'" + str(target).replace("'", "''") + "'"
    connection.execute(
        f"copy (select {columns} from {relation}) to {path_literal} (format parquet)", [files]
    )
    (count,) = connection.execute(f"select count(*) from {relation}", [files]).fetchone()
    return int(count)


def _write_spark_build(spark_warehouse: Path, build: Path) -> dict[str, int]:
    connection = duckdb.connect(config=settings.duckdb_reader_config())
    try:
        connection.execute("set TimeZone = 'UTC'")  # the naive times are UTC
        return {
            name: _copy_spark_table(connection, folder, build / f"{name}.parquet")
            for name, folder in spark_mart_folders(spark_warehouse).items()
        }
    finally:
        connection.close()


def export_spark_marts(spark_warehouse: Path, marts_dir: Path) -> dict[str, int]:
    """export_marts for a build on Spark (OEX_ENGINE=spark): the same files, names, columns
    and types, read from the marts tables' Parquet files in the Spark warehouse, published
    the same way."""
    return _publish(marts_dir, lambda build: _write_spark_build(spark_warehouse, build))


def _publish(marts_dir: Path, write_build: Callable[[Path], dict[str, int]]) -> dict[str, int]:
    previous = _previous_build(marts_dir)
    build = _new_build_folder(marts_dir)
    try:
        written = write_build(build)
        _flush_to_disk(build)
        _switch_current(marts_dir, build)
    except Exception as error:
        shutil.rmtree(build, ignore_errors=True)
        still = f"the set in {previous}" if previous else "the marts that were there before"
        raise MartsExportError(
            f"The marts export failed and published nothing ({error}). Readers keep {still}; "
            f"the half-written {build} was removed. Free disk space if it is full, then run "
            "the build again."
        ) from error
    # after the switch: a failure to make it durable must not remove the published set
    _fsync(marts_dir)
    _remove_superseded(marts_dir, build, previous, list(written))
    return written
