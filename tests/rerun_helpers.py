"""Helpers for the kill-and-rerun tests: run `oex run` in its own process group, stop it at a
chosen stage or moment, and fingerprint everything a run leaves behind (warehouse tables,
marts files).

What "exactly the same as an uninterrupted run" means here:
- every table of the warehouse, compared as a multiset of rows (count + sum of row hashes, so
  row order does not matter), without the columns that only say *when* a row was written
  (VOLATILE_COLUMNS): a re-run lands the same rows at a later time;
- the ingestion ledger (raw.ingested_files, mirrored by marts.rpt_ingestion_health) records
  every attempt, and a re-run attempts again the files the killed run had already landed
  ("unchanged" rows). Its meaning is the current state of each file: the latest attempt that
  did something (loaded, replaced or rejected), so that is what is compared, per file and table;
- every exported marts Parquet file, compared by content through DuckDB with the same rules
  (Parquet bytes are not compared: the writer's metadata is not part of the serving contract);
- the same set of files in the marts folder and next to the warehouse: no temp file, no WAL.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import psutil

from pipelines import settings

# when a row was written, and by which run: a re-run writes the same rows later, in another run
VOLATILE_COLUMNS = frozenset(
    {"_ingested_at", "ingested_at", "quarantined_at", "evaluated_at", "run_id"}
)
# Tables that keep one row per ingestion attempt: compared by each file's current state.
LEDGER_TABLES = frozenset({("raw", "ingested_files"), ("marts", "rpt_ingestion_health")})
LEDGER_KEY = ("source_file", "table_name")
# Doubles from parallel aggregations may differ in the last bits from one run to the next.
DOUBLE_DIGITS = 9
PATH_VARIABLES = (
    "OEX_WAREHOUSE",
    "OEX_INBOX",
    "OEX_PROFILES",
    "OEX_MARTS",
    "OEX_TRUTH",
    "OEX_REPORTS",
    "OEX_EXPORTS",
    "OEX_DUCKDB_TEMP",
)


def oex_environment(data_dir: Path) -> dict[str, str]:
    """Everything under data_dir, as a user's data folder; the instance in data_dir too."""
    env = {
        **os.environ,
        "OEX_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    }
    for variable in PATH_VARIABLES:
        env.pop(variable, None)
    return env


# Runs start in their data folder: anything Dagster resolves against the current folder (the
# instance storage did, before dagster.yaml named none) stays out of the source tree, and runs
# of different tests never share an instance nor its warehouse pool slot.


def oex_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", *args]


def prepare_data_dir(source: Path, data_dir: Path) -> Path:
    """A fresh data folder with the same inbox and the project's source profiles."""
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / "inbox", data_dir / "inbox")
    shutil.copytree(settings.PROJECT_ROOT / "data" / "profiles", data_dir / "profiles")
    return data_dir


def run_oex(
    data_dir: Path, *args: str, timeout: int = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`oex <args>` on data_dir, which must succeed; env adds or overrides variables."""
    result = subprocess.run(
        oex_command(*args),
        env=oex_environment(data_dir) | (env or {}),
        cwd=data_dir,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (
        f"oex {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
    )
    return result


class RunningBuild:
    """`oex run` in a new session (its own process group, dbt included), with its log lines
    collected as they come so a test can wait for a stage."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            oex_command("run", "--verbose"),  # Dagster's step log tells the stages apart
            env=oex_environment(data_dir),
            cwd=data_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def log_matches(self, pattern: str) -> int:
        expression = re.compile(pattern)
        with self._changed:
            return sum(1 for line in self.lines if expression.search(line))

    def wait_for_log(self, pattern: str, count: int = 1, timeout: float = 300) -> None:
        """Block until `pattern` has appeared `count` times in the run's log."""
        expression = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self._changed:
            while True:
                seen = sum(1 for line in self.lines if expression.search(line))
                if seen >= count:
                    return
                if self.process.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(
                        f"the run ended before {pattern!r} x{count}:\n{self.tail()}"
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {pattern!r} x{count} within {timeout}s")
                self._changed.wait(min(remaining, 0.5))

    def tail(self, lines: int = 40) -> str:
        with self._changed:
            return "".join(self.lines[-lines:])

    def processes(self) -> list[psutil.Process]:
        try:
            parent = psutil.Process(self.process.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def has_child(self, name: str) -> bool:
        """Whether a descendant process (e.g. dbt) is running."""
        for process in self.processes()[1:]:
            try:
                if any(name in part for part in process.cmdline()[:2]):
                    return True
            except psutil.Error:
                continue
        return False

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def freeze(self) -> None:
        """SIGSTOP the whole group: what we then observe is the state the kill will leave."""
        self._signal_group(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal_group(signal.SIGCONT)

    def kill(self) -> None:
        """kill -9 the run and every process it started (dbt runs as a child)."""
        family = self.processes()
        self._signal_group(signal.SIGKILL)
        for process in family:  # in case a child left the group
            with contextlib.suppress(psutil.Error):
                process.kill()
        self.process.wait(timeout=30)
        psutil.wait_procs(family, timeout=30)
        self._reader.join(timeout=30)

    def kill_after(self, seconds: float) -> None:
        """kill -9 the run `seconds` after it started, wherever it is then; a run that ended
        earlier is left as it ended (its returncode says which). Either way `lines` then holds
        everything the run printed before it stopped."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=max(0.0, self.started + seconds - time.monotonic()))
        self.kill()

    def stop_when(self, condition: Callable[[], bool], until: str, timeout: float = 300) -> None:
        """Poll `condition`; when it holds, freeze the group and check it again (the group
        cannot move on while frozen), then kill -9. If the stage has already moved on, thaw
        and keep polling. Fails if the log shows `until` (the stage ended) first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                self.freeze()
                time.sleep(0.2)  # let the log reader catch up with what was already written
                if condition():
                    self.kill()
                    return
                self.thaw()
            if self.log_matches(until) or self.process.poll() is not None:
                self.kill()
                raise AssertionError(f"the stage ended ({until!r}) before the kill point")
            time.sleep(0.0005)
        self.kill()
        raise AssertionError(f"kill point not reached within {timeout}s:\n{self.tail()}")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _compared_columns(columns: list[tuple[str, str]]) -> list[str]:
    """SQL expressions for the columns that must be equal between two runs."""
    expressions = []
    for name, data_type in columns:
        if name in VOLATILE_COLUMNS:
            continue
        quoted = _quote(name)
        if data_type.upper() in ("DOUBLE", "FLOAT", "REAL"):
            quoted = f"round({quoted}, {DOUBLE_DIGITS})"
        expressions.append(quoted)
    return expressions


def relation_checksum(
    connection: duckdb.DuckDBPyConnection,
    relation: str,
    columns: list[tuple[str, str]],
    is_ledger: bool,
) -> tuple[int, int]:
    """(rows, sum of row hashes) of a relation: equal for equal multisets of rows."""
    names = {name for name, _ in columns}
    compared = _compared_columns(columns)
    source = relation
    if is_ledger:
        order = "ingested_at" if "ingested_at" in names else "1"
        key = ", ".join(LEDGER_KEY)
        source = (
            f"(select * from {relation} where status <> 'unchanged' "
            f"qualify row_number() over (partition by {key} order by {order} desc) = 1)"
        )
    (rows, total) = connection.execute(
        f"select count(*), coalesce(sum(hash({', '.join(compared)})::hugeint), 0) "
        f"from {source} as compared"
    ).fetchone()
    return int(rows), int(total)


def warehouse_fingerprint(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Checksum of every table of the warehouse, by schema.table."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_catalog = current_database() "
            "order by all"
        ).fetchall()
        fingerprint = {}
        for schema, table in tables:
            columns = connection.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            relation = f"{_quote(schema)}.{_quote(table)}"
            fingerprint[f"{schema}.{table}"] = relation_checksum(
                connection, relation, columns, (schema, table) in LEDGER_TABLES
            )
    return fingerprint


def marts_fingerprint(marts_dir: Path) -> dict[str, tuple[int, int] | str]:
    """Every file of the published set and beside it (asset_checks.parquet): Parquet files by
    content, anything else by name. Builds that are not published are leftovers."""
    published = settings.published_marts_dir(marts_dir)
    files = {f"{settings.MARTS_CURRENT}/{path.name}": path for path in published.iterdir()}
    files |= {
        path.name: path
        for path in marts_dir.iterdir()
        if path.name not in (settings.MARTS_BUILDS, settings.MARTS_CURRENT)
    }
    fingerprint: dict[str, tuple[int, int] | str] = {}
    connection = duckdb.connect()
    try:
        for name, path in sorted(files.items()):
            if path.suffix != ".parquet" or path.name.startswith("."):
                fingerprint[name] = "unexpected file"
                continue
            relation = f"read_parquet('{str(path).replace(chr(39), chr(39) * 2)}')"
            columns = connection.execute(f"describe select * from {relation}").fetchall()
            fingerprint[name] = relation_checksum(
                connection,
                relation,
                [(row[0], row[1]) for row in columns],
                ("marts", path.stem) in LEDGER_TABLES,
            )
    finally:
        connection.close()
    return fingerprint


def leftover_files(data_dir: Path) -> list[str]:
    """Files a finished run must not leave: a DuckDB WAL, temp files of the marts export, a
    build of the marts that is not the published one (the run exported once)."""
    marts = data_dir / "marts"
    leftovers = [p.name for p in data_dir.glob("*.wal")]
    leftovers += [p.name for p in marts.glob("*") if p.suffix == ".tmp"]
    published = settings.published_marts_dir(marts)
    leftovers += [
        f"{settings.MARTS_BUILDS}/{p.name}"
        for p in marts.glob(f"{settings.MARTS_BUILDS}/*")
        if p.name != published.name
    ]
    return sorted(leftovers)


def build_fingerprint(data_dir: Path) -> dict[str, object]:
    return {
        "warehouse": warehouse_fingerprint(data_dir / "warehouse.duckdb"),
        "marts": marts_fingerprint(data_dir / "marts"),
        "leftovers": leftover_files(data_dir),
    }


def ledger_files(warehouse: Path) -> int:
    """How many (file, table) pairs the ledger has an outcome for."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        exists = connection.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = 'ingested_files'"
        ).fetchone()[0]
        if not exists:
            return 0
        return connection.execute(
            "select count(distinct (source_file, table_name)) from raw.ingested_files"
        ).fetchone()[0]


def warehouse_tables(warehouse: Path, schema: str) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select table_name from information_schema.tables where table_schema = ?", [schema]
        ).fetchall()
    return {name for (name,) in rows}
