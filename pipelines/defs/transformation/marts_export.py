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
        builds/2026-11-03T060512.123456Z/<fact>/<week>.parquet  a fact, one file per partition
        builds/2026-11-03T060512.123456Z/partitions.json  each partition's rows and fingerprint
        builds/2026-11-02T060455.654321Z/...             the previous set, for readers still on it
        asset_checks.parquet                              written by check runs, not here

The facts that grow with the history (pipelines/marts.py, PARTITIONED) are exported by
partition, and what a run did not change is not written again: each partition's fingerprint
(its row count and an order-independent hash of its rows, computed in DuckDB) is compared with
the previous set's, and a partition with the same fingerprint is a hard link to the previous
set's file. A new set is still whole on its own: removing the previous one leaves its files.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines import marts, settings

MARTS_SCHEMA = "marts"
PARTITIONS_MANIFEST = "partitions.json"


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


def _path_literal(path: Path) -> str:
    # COPY takes no bound parameter for its file name: it is ours, with quotes doubled
    return "'" + str(path).replace("'", "''") + "'"


def _copy_table(connection: duckdb.DuckDBPyConnection, relation: str, target: Path) -> int:
    """Write one marts table (a relation in `connection`) to target; returns its rows."""
    connection.execute(
        f"copy (select * from {relation}) to {_path_literal(target)} (format parquet)"
    )
    (count,) = connection.execute(f"select count(*) from {relation}").fetchone()
    return int(count)


def _fingerprints(
    connection: duckdb.DuckDBPyConnection, relation: str, key: str, columns: list[str]
) -> dict:
    """Each partition's row count and two order-independent sums of its rows' hashes (row
    order in a table is not stable from one build to the next, the rows are). Both sums: a
    row's hash combines its columns' hashes much like XOR, so XOR alone cancels a value
    changed in an even number of rows."""
    row_hash = f"hash({', '.join(_quote(column) for column in columns)})"
    rows = connection.execute(
        f"select coalesce(cast({key} as varchar), '{marts.NO_PARTITION}') as partition,"
        f" count(*), bit_xor({row_hash}), sum({row_hash}) from {relation} group by all"
    ).fetchall()
    return {partition: [int(count), f"{xor}:{total}"] for partition, count, xor, total in rows}


def _schema(connection: duckdb.DuckDBPyConnection, relation: str) -> list[list[str]]:
    return [[row[0], row[1]] for row in connection.execute(f"describe {relation}").fetchall()]


def _write_partitions(
    connection: duckdb.DuckDBPyConnection,
    relation: str,
    key: str,
    partitions: list[str],
    target: Path,
) -> dict[str, list[str]]:
    """Write the given partitions of a table, in one pass over it, to
    target/<partition>.parquet; returns each partition's file names."""
    if not partitions:
        return {}
    staging = target / ".writing"  # hidden: no reader's glob matches it
    partition = f"coalesce(cast({key} as varchar), '{marts.NO_PARTITION}')"
    connection.execute(
        f"copy (select *, {partition} as oex_partition from {relation}"
        f" where {partition} in (select unnest(?::varchar[])))"
        f" to {_path_literal(staging)} (format parquet, partition_by (oex_partition))",
        [partitions],
    )
    names = {}
    for name in partitions:
        written = sorted((staging / f"oex_partition={name}").glob("*.parquet"))
        names[name] = [
            f"{name}.parquet" if n == 0 else f"{name}_{n}.parquet" for n in range(len(written))
        ]
        for path, file_name in zip(written, names[name], strict=True):
            path.rename(target / file_name)
        if not written:  # an empty table: its one partition is an empty file with the columns
            names[name] = [f"{name}.parquet"]
            _copy_table(connection, f"(select * from {relation} limit 0)", target / names[name][0])
    shutil.rmtree(staging, ignore_errors=True)
    return names


def _export_partitioned(
    connection: duckdb.DuckDBPyConnection,
    relation: str,
    name: str,
    build: Path,
    previous: tuple[Path, dict] | None,
) -> dict:
    """Export one partitioned mart to build/<name>/, linking the partitions whose fingerprint
    the previous set (its folder and its manifest entry for the mart) already has; returns
    this set's manifest entry (files relative to the build folder)."""
    key = marts.PARTITIONED[name]
    schema = _schema(connection, relation)
    columns = [column for column, _ in schema]
    fingerprints = _fingerprints(connection, relation, key, columns) or {
        marts.NO_PARTITION: [0, "0"]
    }
    target = build / name
    target.mkdir()
    files: dict[str, list[str]] = {}
    if previous is not None and previous[1].get("schema") == schema:
        previous_build, entry = previous
        for partition, fingerprint in fingerprints.items():
            kept = entry.get("partitions", {}).get(partition)
            if kept and kept["fingerprint"] == fingerprint:
                linked = _link_files([previous_build / file for file in kept["files"]], target)
                if linked is not None:
                    files[partition] = linked
    to_write = sorted(set(fingerprints) - set(files))
    files.update(_write_partitions(connection, relation, key, to_write, target))
    return {
        "schema": schema,
        "rows": sum(count for count, _ in fingerprints.values()),
        "written": to_write,
        "partitions": {
            partition: {
                "fingerprint": fingerprint,
                "files": [f"{name}/{file}" for file in files[partition]],
            }
            for partition, fingerprint in sorted(fingerprints.items())
        },
    }


def _link_files(files: list[Path], target: Path) -> list[str] | None:
    """Hard-link a previous set's files of a partition into target; None (nothing linked)
    when one is gone or the file system cannot link: the partition is then written again."""
    linked: list[Path] = []
    try:
        for file in files:
            destination = target / file.name
            os.link(file, destination)
            linked.append(destination)
    except OSError:
        for path in linked:
            path.unlink(missing_ok=True)
        return None
    return [path.name for path in linked]


def _previous_manifest(previous: Path | None) -> dict:
    if previous is None or not (previous / PARTITIONS_MANIFEST).is_file():
        return {}
    try:
        return json.loads((previous / PARTITIONS_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # unreadable: every partition is written again


def _export_tables(
    connection: duckdb.DuckDBPyConnection,
    relations: dict[str, str],
    build: Path,
    previous: Path | None,
) -> dict[str, int]:
    """Write every table (name -> relation in `connection`) to the build folder, the
    partitioned ones by partition; returns rows per table."""
    before = _previous_manifest(previous)
    manifest, written = {}, {}
    for name, relation in relations.items():
        if name in marts.PARTITIONED:
            earlier = (previous, before[name]) if previous and name in before else None
            manifest[name] = _export_partitioned(connection, relation, name, build, earlier)
            written[name] = manifest[name]["rows"]
        else:
            written[name] = _copy_table(connection, relation, build / f"{name}.parquet")
    (build / PARTITIONS_MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return written


def _write_build(warehouse_path: Path, build: Path, previous: Path | None) -> dict[str, int]:
    connection = duckdb.connect(
        str(warehouse_path), read_only=True, config=settings.duckdb_reader_config()
    )
    try:
        relations = {name: f"{MARTS_SCHEMA}.{_quote(name)}" for name in _mart_tables(connection)}
        return _export_tables(connection, relations, build, previous)
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
    # A linked partition is a file an earlier export already flushed; syncing it again is a
    # no-op the kernel answers at once.
    for folder in [build, *(path for path in build.iterdir() if path.is_dir())]:
        for path in folder.iterdir():
            _fsync(path)
        _fsync(folder)


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
    return _publish(
        marts_dir, lambda build, previous: _write_build(warehouse_path, build, previous)
    )


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


def _spark_table_view(connection: duckdb.DuckDBPyConnection, name: str, folder: Path) -> str:
    """A view over one Spark table's Parquet files with the types the DuckDB export writes:
    Spark stores timestamps as instants (read back as `timestamp with time zone`), the marts
    as naive UTC times. Returns the view's name."""
    files = "'" + str(folder / "*.parquet").replace("'", "''") + "'"
    described = connection.execute(f"describe select * from read_parquet({files})").fetchall()
    columns = ", ".join(
        f"cast({_quote(column)} as timestamp) as {_quote(column)}"
        if data_type == "TIMESTAMP WITH TIME ZONE"
        else _quote(column)
        for column, data_type, *_ in described
    )
    connection.execute(
        f"create temporary view {_quote(name)} as select {columns} from read_parquet({files})"
    )
    return _quote(name)


def _write_spark_build(spark_warehouse: Path, build: Path, previous: Path | None) -> dict[str, int]:
    connection = duckdb.connect(config=settings.duckdb_reader_config())
    try:
        connection.execute("set TimeZone = 'UTC'")  # the naive times are UTC
        relations = {
            name: _spark_table_view(connection, name, folder)
            for name, folder in spark_mart_folders(spark_warehouse).items()
        }
        return _export_tables(connection, relations, build, previous)
    finally:
        connection.close()


def export_spark_marts(spark_warehouse: Path, marts_dir: Path) -> dict[str, int]:
    """export_marts for a build on Spark (OEX_ENGINE=spark): the same files, names, columns
    and types, read from the marts tables' Parquet files in the Spark warehouse, published
    the same way."""
    return _publish(
        marts_dir, lambda build, previous: _write_spark_build(spark_warehouse, build, previous)
    )


def _publish(
    marts_dir: Path, write_build: Callable[[Path, Path | None], dict[str, int]]
) -> dict[str, int]:
    previous = _previous_build(marts_dir)
    build = _new_build_folder(marts_dir)
    try:
        written = write_build(build, previous)
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
