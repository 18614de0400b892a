"""One generated sample built by the dbt project on DuckDB and on Apache Spark (a local
session), shared by every test here: a full build of six days, then a daily run of the
seventh with a corrected re-delivery of an earlier day. `make test-spark` runs this folder;
`make test` does not (it needs the spark extra and Java: see README, "Scaling out").

Real ingestion into a DuckDB file, the real Parquet copy of raw that the Spark engine reads,
real dbt on both engines, and each engine's marts exported the way a run exports them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines import settings
from pipelines.contract import load_contract
from pipelines.defs.ingestion.landing import ingest_table
from pipelines.defs.transformation.marts_export import export_marts, export_spark_marts
from pipelines.defs.transformation.raw_parquet import export_raw_tables
from pipelines.generator import generate
from pipelines.inbox import partition_day_of

sys.path.insert(0, str(Path(__file__).parent))
from spark_probes import PROBE_SCHEMA, PROBES

DBT = Path(sys.executable).parent / "dbt"
FIRST_DAY = date(2026, 11, 9)
DAYS = 7
ORDERS = 2000
BUILD = ["build", "--exclude-resource-type", "unit_test"]
# No look-back window: the daily run must find what it rebuilds from what was ingested.
DAILY = ["--vars", "{lookback_days: 0}"]


@contextmanager
def _variables(**variables: str) -> Iterator[None]:
    saved = os.environ.copy()
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass
class Engine:
    """One engine's copy of the dbt project, its environment and the log of each dbt call."""

    name: str
    project: Path
    environment: dict[str, str]
    logs: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def create(cls, name: str, root: Path, **variables: str) -> Engine:
        project = root / name / "dbt_project"
        shutil.copytree(
            settings.DBT_PROJECT_DIR,
            project,
            ignore=shutil.ignore_patterns("target", "logs", ".user.yml"),
        )
        probes = project / "models" / PROBE_SCHEMA
        probes.mkdir()
        for model, sql in PROBES.items():
            (probes / f"{model}.sql").write_text(sql, encoding="utf-8")
        with _variables(**variables):
            environment = os.environ | settings.dbt_environment()
        return cls(name, project, environment)

    def dbt(self, step: str, *arguments: str) -> str:
        started = time.perf_counter()
        completed = subprocess.run(
            [str(DBT), *arguments, "--project-dir", str(self.project)],
            cwd=self.project,
            env=self.environment | {"DBT_PROFILES_DIR": str(self.project)},
            capture_output=True,
            text=True,
            check=False,
        )
        self.seconds[step] = time.perf_counter() - started
        self.logs[step] = completed.stdout
        assert completed.returncode == 0, (
            f"dbt {' '.join(arguments)} failed on {self.name}:\n" + _dbt_lines(completed.stdout)
        )
        return completed.stdout


def _dbt_lines(output: str) -> str:
    """dbt's own lines of a log, without Spark's Java logging around them."""
    lines = [line for line in output.splitlines() if line[:1] == "\x1b" or line[:2].isdigit()]
    return "\n".join(lines[-80:])


@dataclass
class Builds:
    """The marts each engine exported after each step, and how each step went."""

    root: Path
    warehouse: Path
    spark_warehouse: Path
    marts: dict[tuple[str, str], Path]  # (engine, step) -> published marts folder
    engines: dict[str, Engine]
    withdrawn_order: str

    def spark_table(self, schema: str, name: str) -> Path:
        return self.spark_warehouse / f"{schema}.db" / name


def _deliver(generated: Path, inbox: Path, day: date) -> None:
    for path in sorted(generated.rglob("*.parquet")):
        if partition_day_of(path) == day:
            target = inbox / path.relative_to(generated)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)


def _withdraw_order(inbox: Path, day: date) -> str:
    """A corrected re-export of a day's order files without one order (a test order the
    platform voided): its rows leave raw, and the daily run must remove it everywhere."""
    (orders,) = (inbox / "orders").glob(f"orders_{day.isoformat()}.parquet")
    order_id = pq.read_table(orders).column("order_id")[0].as_py()
    for table in ("orders", "order_lines", "order_events"):
        (path,) = (inbox / "orders").glob(f"{table}_{day.isoformat()}.parquet")
        rows = [row for row in pq.read_table(path).to_pylist() if row["order_id"] != order_id]
        pq.write_table(pa.Table.from_pylist(rows, schema=pq.read_schema(path)), path)
    return order_id


def _ingest(warehouse: Path, inbox: Path, days: list[date]) -> None:
    connection = duckdb.connect(str(warehouse))
    try:
        for table in load_contract():
            summary = ingest_table(table, connection, inbox=inbox, partition_days=days)
            assert not summary.rejected, summary.rejected
    finally:
        connection.close()


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    root = tmp_path_factory.mktemp("engines")
    generated = root / "generated"
    # a day more than is delivered: the generator's last day re-sends a changed SKU master,
    # which would make the daily run rebuild nearly every order
    generate(
        orders=ORDERS,
        days=DAYS + 1,
        merchants=3,
        seed=11,
        end_date=FIRST_DAY + timedelta(days=DAYS),
        file_format="parquet",
        bad_rows=0.0,
        inbox=generated / "inbox",
        truth_dir=generated / "truth",
    )
    inbox = root / "inbox"
    warehouse = root / "warehouse.duckdb"
    lake = root / "lake"
    spark_warehouse = root / "spark" / "warehouse"
    engines = {
        "duckdb": Engine.create(
            "duckdb",
            root,
            OEX_ENGINE="duckdb",
            OEX_WAREHOUSE=str(warehouse),
            OEX_DUCKDB_TEMP=str(root / "tmp"),
        ),
        "spark": Engine.create(
            "spark",
            root,
            OEX_ENGINE="spark",
            OEX_SPARK_TARGET="spark",
            OEX_WAREHOUSE=str(warehouse),
            OEX_LAKE=str(lake),
            OEX_SPARK_WAREHOUSE=str(spark_warehouse),
            OEX_SPARK_METASTORE=str(root / "spark" / "metastore_db"),
            OEX_SPARK_MASTER="local[2]",
            OEX_DBT_THREADS="4",
        ),
    }
    (root / "spark").mkdir(exist_ok=True)  # the metastore's log goes beside it
    days = [FIRST_DAY + timedelta(days=offset) for offset in range(DAYS)]
    marts: dict[tuple[str, str], Path] = {}

    def build(step: str, *arguments: str) -> None:
        export_raw_tables(warehouse, lake / "raw")
        for name, engine in engines.items():
            engine.dbt(step, *BUILD, *arguments)
            marts_dir = root / name / "marts" / step
            if name == "spark":
                export_spark_marts(spark_warehouse, marts_dir)
            else:
                export_marts(warehouse, marts_dir)
            marts[(name, step)] = settings.published_marts_dir(marts_dir)

    for day in days[:-1]:
        _deliver(generated / "inbox", inbox, day)
    _ingest(warehouse, inbox, days[:-1])
    build("full")

    # the daily run: the last day, and a corrected re-delivery of the second day
    _deliver(generated / "inbox", inbox, days[-1])
    withdrawn = _withdraw_order(inbox, days[1])
    _ingest(warehouse, inbox, [days[1], days[-1]])
    build("daily", *DAILY)
    for name, engine in engines.items():
        SECONDS.update({f"{name} {step}": seconds for step, seconds in engine.seconds.items()})
    return Builds(root, warehouse, spark_warehouse, marts, engines, withdrawn)


SECONDS: dict[str, float] = {}


def pytest_terminal_summary(terminalreporter) -> None:
    """How long each dbt build took, for the README's figures and for CI's log."""
    if SECONDS:
        terminalreporter.write_sep("-", "dbt builds (seconds)")
        for step, seconds in SECONDS.items():
            terminalreporter.write_line(f"{step:>14}: {seconds:6.1f}")
