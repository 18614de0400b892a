"""Where things live. Every path is absolute and can be moved by an environment variable.

dbt-duckdb resolves relative paths against the current directory, which differs between a
`dbt` call and a Dagster run, so everything here is made absolute from the project root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DEFAULT_TIMEZONE = "Asia/Shanghai"


def _path(variable: str, default: Path) -> Path:
    return Path(os.environ.get(variable) or default).resolve()


def data_dir() -> Path:
    return _path("OEX_DATA_DIR", PROJECT_ROOT / "data")


def warehouse_path() -> Path:
    return _path("OEX_WAREHOUSE", data_dir() / "warehouse.duckdb")


def inbox_dir() -> Path:
    return _path("OEX_INBOX", data_dir() / "inbox")


def profiles_dir() -> Path:
    # Profiles are configuration that ships with the project, not generated data, so they do
    # not move with OEX_DATA_DIR.
    return _path("OEX_PROFILES", PROJECT_ROOT / "data" / "profiles")


def truth_dir() -> Path:
    return _path("OEX_TRUTH", data_dir() / "truth")


def marts_dir() -> Path:
    return _path("OEX_MARTS", data_dir() / "marts")


# Inside marts_dir(): each export writes a whole set to builds/<build>/ and then switches the
# `current` link to it (pipelines/defs/transformation/marts_export.py).
MARTS_BUILDS = "builds"
MARTS_CURRENT = "current"


def published_marts_dir(root: Path | None = None) -> Path:
    """The folder holding the published set of marts under `root` (default marts_dir()).

    Every reader of the marts asks here, once, and reads all its files from the folder it
    gets: the files of one folder are always one build's, so holding on to it (rather than
    to `current`, which an export may switch between two reads) never mixes two builds.
    A folder without the `current` link (the test fixtures, a folder of Parquet files a user
    copied) is itself the set.
    """
    root = root or marts_dir()
    pointer = root / MARTS_CURRENT
    if pointer.is_symlink():
        return root / os.readlink(pointer)
    if pointer.is_dir():  # copied by a tool that follows links: the folder is the set
        return pointer
    return root


def exports_dir() -> Path:
    return _path("OEX_EXPORTS", data_dir() / "exports")


def reports_dir() -> Path:
    return _path("OEX_REPORTS", data_dir() / "reports")


# The risks' replay (`oex evaluate`, the weekly risk_track_record) in reports_dir(), which
# the Risk watch page reads.
RISK_REPORT = "risk.json"


def models_dir() -> Path:
    """Trained risk models, each version kept, the one serving named in a pointer file."""
    return _path("OEX_MODELS", data_dir() / "models")


def duckdb_temp_dir() -> Path:
    return _path("OEX_DUCKDB_TEMP", data_dir() / "tmp")


def reporting_timezone() -> str:
    """The one time zone of the review: business days, ISO weeks, partitions, schedules, the
    dashboard and the merchant files. Stored times stay UTC; a source's own zone (for times
    written without an offset) is its profile's `timezone`, not this."""
    name = os.environ.get("OEX_TIMEZONE") or DEFAULT_TIMEZONE
    return check_timezone(name, "OEX_TIMEZONE")


def check_timezone(name: str, where: str) -> str:
    """An IANA time zone name, or a ValueError that says where the bad name came from."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{where}: {name!r} is not a time zone name; use an IANA name such as "
            f"Asia/Shanghai, America/Sao_Paulo or Europe/Berlin"
        ) from None
    return name


def follow_links() -> bool:
    """OEX_FOLLOW_LINKS=true reads symbolic links in the inbox; by default a link is refused
    (it can point anywhere on the machine, outside the folder people drop files in)."""
    return os.environ.get("OEX_FOLLOW_LINKS", "").strip().lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class FileLimits:
    """What one inbox file may hold. A file past a limit is refused, saying which limit and
    its setting; the bounds keep one hostile or broken file from exhausting the run's memory
    (a 5 KB workbook can declare a billion cells)."""

    max_file_mb: int = 4096  # OEX_MAX_FILE_MB: on disk, and unpacked for a workbook
    max_rows: int = 50_000_000  # OEX_MAX_ROWS: lines of a text file, rows of a sheet
    max_columns: int = 1_000  # OEX_MAX_COLUMNS
    max_field_chars: int = 1_000_000  # OEX_MAX_FIELD_CHARS: a longer field quarantines its row
    max_sheet_cells: int = 20_000_000  # OEX_MAX_SHEET_CELLS: filled cells of a workbook

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 2**20


LIMIT_SETTINGS = {
    "max_file_mb": "OEX_MAX_FILE_MB",
    "max_rows": "OEX_MAX_ROWS",
    "max_columns": "OEX_MAX_COLUMNS",
    "max_field_chars": "OEX_MAX_FIELD_CHARS",
    "max_sheet_cells": "OEX_MAX_SHEET_CELLS",
}


def file_limits() -> FileLimits:
    """The per-file limits, each overridable by its OEX_MAX_* variable (a positive number)."""
    values = {}
    for name, variable in LIMIT_SETTINGS.items():
        text = os.environ.get(variable, "").strip().replace("_", "")
        if not text:
            continue
        if not text.isdigit() or int(text) <= 0:
            raise ValueError(f"{variable}: {text!r} is not a positive whole number")
        values[name] = int(text)
    return FileLimits(**values)


def first_day_setting() -> date | None:
    """OEX_FIRST_DAY, the first daily partition, when set (else it follows the inbox)."""
    value = os.environ.get("OEX_FIRST_DAY")
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"OEX_FIRST_DAY: {value!r} is not a date (YYYY-MM-DD)") from None


def cpu_count() -> int:
    """CPUs this process may use (a container's cgroup can allow fewer than the host has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def duckdb_threads() -> int:
    return int(os.environ.get("OEX_DUCKDB_THREADS") or cpu_count())


def duckdb_memory_limit() -> str:
    """DuckDB spills to duckdb_temp_dir() past this, instead of dying of memory. A sixth of
    the machine's memory (4 GB of 24), between 1 and 8 GB: room for the Python process that
    runs beside it (checks, the orchestrator) and for the operating system's file cache."""
    if os.environ.get("OEX_DUCKDB_MEMORY_LIMIT"):
        return os.environ["OEX_DUCKDB_MEMORY_LIMIT"]
    import psutil

    gigabytes = psutil.virtual_memory().total / 2**30 / 6
    return f"{min(max(round(gigabytes), 1), 8)}GB"


def duckdb_config() -> dict[str, object]:
    """Settings for every DuckDB connection to the warehouse (ingestion, checks, dbt, the
    marts export): without a limit a reader caches up to 80 % of the machine's memory."""
    return {
        "threads": duckdb_threads(),
        "memory_limit": duckdb_memory_limit(),
        "temp_directory": str(duckdb_temp_dir()),
    }


def duckdb_reader_config() -> dict[str, object]:
    """Settings for a connection that only scans the warehouse (the checks, the marts export):
    it needs little memory, and what its cache would hold the checks' frames need more."""
    return {**duckdb_config(), "memory_limit": "1GB"}


ENGINES = ("duckdb", "spark")
# The dbt output (dbt_project/profiles.yml) each engine builds with by default.
DUCKDB_TARGET = "dev"
SPARK_TARGET = "spark"


def engine() -> str:
    """OEX_ENGINE: the engine dbt builds on, `duckdb` (the default: the warehouse file) or
    `spark` (Apache Spark through dbt-spark, reading a Parquet copy of the raw tables).
    Ingestion, the ledger and the quarantine are DuckDB's on both."""
    name = (os.environ.get("OEX_ENGINE") or "duckdb").strip().lower()
    if name not in ENGINES:
        raise ValueError(f"OEX_ENGINE: {name!r} is not an engine; use one of {', '.join(ENGINES)}")
    return name


def is_spark() -> bool:
    return engine() == "spark"


def dbt_target() -> str:
    """The dbt output of the engine: `dev` on DuckDB; on Spark OEX_SPARK_TARGET, by default
    `spark` (a session in this process, local unless OEX_SPARK_MASTER says otherwise), else
    `spark_thrift`, `spark_connect` or an output of your own (README, "Scaling out")."""
    if not is_spark():
        return DUCKDB_TARGET
    return os.environ.get("OEX_SPARK_TARGET") or SPARK_TARGET


def check_engine_installed() -> None:
    """A clear error, before a run starts, when the Spark engine's packages or Java are
    missing (they are an optional extra: `make install-spark`)."""
    if not is_spark():
        return
    import importlib.util

    missing = [
        name for name in ("pyspark", "dbt.adapters.spark") if importlib.util.find_spec(name) is None
    ]
    if missing:
        raise ValueError(
            "OEX_ENGINE=spark needs the spark extra (dbt-spark and pyspark): run "
            "`make install-spark`, or `pip install -e '.[spark]'` and Java 17"
        )
    if dbt_target() == SPARK_TARGET and not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise ValueError(
            "OEX_ENGINE=spark runs Spark in this process and needs Java 17: "
            "`apt-get install openjdk-17-jre-headless` (or set JAVA_HOME)"
        )


def lake_dir() -> Path:
    """OEX_LAKE: where the Spark engine reads its input, a Parquet copy of every raw table
    written after ingestion (<lake>/raw/<table>/, see pipelines/defs/transformation/
    raw_parquet.py). Unused on DuckDB."""
    return _path("OEX_LAKE", data_dir() / "lake")


def raw_parquet_dir() -> Path:
    return lake_dir() / "raw"


def spark_warehouse_dir() -> Path:
    """OEX_SPARK_WAREHOUSE: spark.sql.warehouse.dir of a local session, where the tables dbt
    builds on Spark live (<dir>/<schema>.db/<table>/); the marts export reads them here."""
    return _path("OEX_SPARK_WAREHOUSE", data_dir() / "spark" / "warehouse")


def spark_metastore_dir() -> Path:
    """OEX_SPARK_METASTORE: the local session's catalog (an embedded Derby database)."""
    return _path("OEX_SPARK_METASTORE", data_dir() / "spark" / "metastore_db")


def dbt_threads() -> str:
    """dbt's threads: one per CPU on DuckDB (each model's query is parallel itself); four on
    Spark, whose models spend much of their time in planning and bookkeeping on the driver."""
    if os.environ.get("OEX_DBT_THREADS"):
        return os.environ["OEX_DBT_THREADS"]
    return str(max(4, cpu_count()) if is_spark() else cpu_count())


def spark_environment() -> dict[str, str]:
    """The Spark outputs' settings (read by dbt_project/profiles.yml), as absolute paths."""
    return {
        "OEX_LAKE": str(lake_dir()),
        "OEX_SPARK_WAREHOUSE": str(spark_warehouse_dir()),
        "OEX_SPARK_METASTORE": str(spark_metastore_dir()),
        "OEX_SPARK_MASTER": os.environ.get("OEX_SPARK_MASTER") or f"local[{cpu_count()}]",
        "OEX_SPARK_TARGET": dbt_target(),
    }


def dbt_environment() -> dict[str, str]:
    """Environment for a dbt subprocess: absolute paths, threads, memory, no telemetry, and
    the engine (OEX_ENGINE picks the dbt output, see dbt_project/profiles.yml)."""
    return {
        "OEX_ENGINE": engine(),
        "OEX_WAREHOUSE": str(warehouse_path()),
        "OEX_DUCKDB_TEMP": str(duckdb_temp_dir()),
        "OEX_DUCKDB_THREADS": str(duckdb_threads()),
        "OEX_DUCKDB_MEMORY_LIMIT": duckdb_memory_limit(),
        "OEX_DBT_THREADS": dbt_threads(),
        "OEX_TIMEZONE": reporting_timezone(),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **(spark_environment() if is_spark() else {}),
    }


def dbt_executable() -> str:
    """dbt from the interpreter's own environment: the venv need not be activated."""
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")


def parse_dbt_project() -> None:
    """`dbt parse` into dbt_project/target, in the environment a run gives dbt: the run then
    reuses the parse (dbt parses again when a profile's env vars differ from the parse's).

    Always a full parse (5 s): after a pull that added macros/test_scope.sql, dbt's partial
    parse from the old target/partial_parse.msgpack failed on the overridden
    get_where_subquery ("'rebuilt_rows_condition' is undefined"). The full parse still writes
    a fresh partial_parse.msgpack for the runs."""
    subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--no-partial-parse"],
        cwd=DBT_PROJECT_DIR,
        env=os.environ | dbt_environment(),
        check=True,
    )


if __name__ == "__main__":
    parse_dbt_project()  # `make manifest`
