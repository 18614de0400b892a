"""Safe re-runs: `oex run` killed with kill -9 during ingestion, during dbt or during the marts
export, then run again, leaves exactly the tables and files an uninterrupted run leaves.

And a failing blocking (ERROR) check stops the models downstream of the broken raw table.
What "exactly" means (volatile timestamps, the ingestion ledger) is in tests/rerun_helpers.py.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from rerun_helpers import (
    RunningBuild,
    build_fingerprint,
    ledger_files,
    oex_command,
    oex_environment,
    prepare_data_dir,
    run_oex,
    warehouse_tables,
)

pytestmark = pytest.mark.slow

INGESTION_STEP = "orders__order_events"  # the 5th of 9 tables: some done, some not yet
GX_STARTED = r'Started execution of step "gx_'
DBT_STARTED = r'Started execution of step "order_exceptions_dbt"'
DBT_FINISHED = r'Finished execution of step "order_exceptions_dbt"'
DBT_MODEL_BUILT = r"order_exceptions_dbt - ASSET_MATERIALIZATION"
DBT_MODELS_BEFORE_KILL = 20  # of about 60 models and seeds: well inside dbt build
EXPORT_STARTED = r'Started execution of step "exported_marts"'
EXPORT_FINISHED = r'Finished execution of step "exported_marts"'


@pytest.fixture(scope="module")
def inbox_source(tmp_path_factory) -> Path:
    """A small dataset with some bad rows, generated once."""
    source = tmp_path_factory.mktemp("generated")
    run_oex(
        source,
        "generate",
        *("--orders", "3000", "--days", "14", "--merchants", "3"),
        *("--seed", "3", "--bad-rows", "0.005"),
    )
    return source


@pytest.fixture(scope="module")
def reference(inbox_source: Path, tmp_path_factory) -> tuple[Path, dict]:
    """An uninterrupted run: what every killed-then-re-run build must match."""
    data_dir = prepare_data_dir(inbox_source, tmp_path_factory.mktemp("reference"))
    run_oex(data_dir, "run")
    fingerprint = build_fingerprint(data_dir)
    assert fingerprint["marts"] and not fingerprint["leftovers"]
    assert fingerprint["warehouse"]["raw.orders"][0] == 3000  # bad rows are quarantined
    return data_dir, fingerprint


def kill_during_ingestion(build: RunningBuild) -> None:
    """Mid-table: the step of one table has started and committed some of its files (the
    warehouse's WAL holds them), the later tables have not started."""
    wal = build.data_dir / "warehouse.duckdb.wal"
    started = rf'Started execution of step "{INGESTION_STEP}"'
    finished = rf'Finished execution of step "{INGESTION_STEP}"'

    def in_progress() -> bool:
        return (
            build.log_matches(started) > 0
            and build.log_matches(finished) == 0
            and wal.exists()
            and wal.stat().st_size > 0
        )

    build.stop_when(in_progress, until=GX_STARTED)


def kill_during_dbt(build: RunningBuild) -> None:
    """dbt is running as a child process and has built some models, not all."""

    def in_progress() -> bool:
        return (
            build.log_matches(DBT_MODEL_BUILT) >= DBT_MODELS_BEFORE_KILL
            and build.log_matches(DBT_FINISHED) == 0
            and build.has_child("dbt")
        )

    build.wait_for_log(DBT_STARTED)
    build.stop_when(in_progress, until=DBT_FINISHED)


def kill_during_export(build: RunningBuild) -> None:
    """A marts Parquet file is half-written under its temp name."""
    marts = build.data_dir / "marts"

    def in_progress() -> bool:
        return marts.is_dir() and any(path.suffix == ".tmp" for path in marts.iterdir())

    build.wait_for_log(DBT_FINISHED)
    build.stop_when(in_progress, until=EXPORT_FINISHED)


def assert_ingestion_was_cut(data_dir: Path, reference_dir: Path) -> None:
    # The killed process never checkpointed: the re-run starts from a stale WAL.
    assert (data_dir / "warehouse.duckdb.wal").stat().st_size > 0
    assert (
        0
        < ledger_files(data_dir / "warehouse.duckdb")
        < ledger_files(reference_dir / "warehouse.duckdb")
    )


def assert_dbt_was_cut(data_dir: Path, reference_dir: Path) -> None:
    built = warehouse_tables(data_dir / "warehouse.duckdb", "marts")
    assert built != warehouse_tables(reference_dir / "warehouse.duckdb", "marts")
    assert not (data_dir / "marts").exists()


def assert_export_was_cut(data_dir: Path, reference_dir: Path) -> None:
    marts = data_dir / "marts"
    assert any(path.suffix == ".tmp" for path in marts.iterdir())
    assert {p.name for p in marts.glob("*.parquet")} != {
        p.name for p in (reference_dir / "marts").glob("*.parquet")
    }


STAGES = {
    "ingestion": (kill_during_ingestion, assert_ingestion_was_cut),
    "dbt": (kill_during_dbt, assert_dbt_was_cut),
    "export": (kill_during_export, assert_export_was_cut),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_run_killed_then_rerun_leaves_what_an_uninterrupted_run_leaves(
    stage: str, inbox_source: Path, reference: tuple[Path, dict], tmp_path: Path
):
    reference_dir, expected = reference
    kill, assert_cut = STAGES[stage]
    data_dir = prepare_data_dir(inbox_source, tmp_path / "data")

    kill(RunningBuild(data_dir))
    assert_cut(data_dir, reference_dir)

    rerun = run_oex(data_dir, "run")
    assert "was killed before it finished" in rerun.stdout
    actual = build_fingerprint(data_dir)
    assert actual["leftovers"] == []
    assert actual["marts"] == expected["marts"]
    assert actual["warehouse"].keys() == expected["warehouse"].keys()
    different = {
        table: (expected["warehouse"][table], checksum)
        for table, checksum in actual["warehouse"].items()
        if checksum != expected["warehouse"][table]
    }
    assert not different


def test_a_contract_breaking_raw_table_stops_the_models_downstream(
    reference: tuple[Path, dict], tmp_path: Path
):
    reference_dir, _ = reference
    data_dir = tmp_path / "data"
    shutil.copytree(reference_dir, data_dir)
    marts_before = built_marts(data_dir)
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as connection:
        # An order without its key breaks the blocking contract suite (not-null keys).
        # Ingestion would have quarantined it, so it is planted after the fact; updating a
        # row keeps the row counts, so only the contract check can notice.
        connection.execute(
            "update raw.orders set order_id = null "
            "where order_id = (select min(order_id) from raw.orders)"
        )
        models_before = connection.execute("select count(*) from marts.fct_orders").fetchone()[0]

    result = subprocess.run(
        oex_command("run", "--verbose"),
        env=oex_environment(data_dir),
        cwd=data_dir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 1, log[-4000:]
    assert "check failed: orders/orders gx_contract" in result.stdout
    assert 'Started execution of step "order_exceptions_dbt"' not in log
    assert 'Started execution of step "exported_marts"' not in log
    # Nothing downstream was rebuilt on the broken data: marts table and files untouched.
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as connection:
        assert connection.execute("select count(*) from marts.fct_orders").fetchone()[0] == (
            models_before
        )
    assert built_marts(data_dir) == marts_before
    # ... and the Data health page learns why
    checks = duckdb.sql(
        "select passed, severity from read_parquet(?) "
        "where asset_key = 'orders/orders' and check_name = 'gx_contract'",
        params=[str(data_dir / "marts" / "asset_checks.parquet")],
    ).fetchall()
    assert checks == [(False, "ERROR")]


def built_marts(data_dir: Path) -> dict[str, int]:
    """The marts dbt built, by file and modification time. asset_checks.parquet is left out:
    every run records its check results there, a failed one most of all."""
    return {
        path.name: path.stat().st_mtime_ns
        for path in (data_dir / "marts").iterdir()
        if path.name != "asset_checks.parquet"
    }
