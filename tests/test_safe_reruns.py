"""Safe re-runs: `oex run` killed with kill -9 during ingestion, during dbt or during the marts
export, or at a random moment, then run again, leaves exactly the tables and files an
uninterrupted run leaves.

And a failing blocking (ERROR) check stops the models downstream of the broken raw table.
What "exactly" means (volatile timestamps, the ingestion ledger) is in tests/rerun_helpers.py.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

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

from pipelines import settings

pytestmark = pytest.mark.slow

INGESTION_STEP = "orders__order_events"  # the 5th of 9 tables: some done, some not yet
GX_STARTED = r'Started execution of step "gx_'
DBT_STARTED = r'Started execution of step "order_exceptions_dbt"'
DBT_FINISHED = r'Finished execution of step "order_exceptions_dbt"'
DBT_MODEL_BUILT = r"order_exceptions_dbt - ASSET_MATERIALIZATION"
DBT_MODELS_BEFORE_KILL = 20  # of about 60 models and seeds: well inside dbt build
EXPORT_STARTED = r'Started execution of step "exported_marts"'
EXPORT_FINISHED = r'Finished execution of step "exported_marts"'
RUN_STARTED = r"RUN_START - "
RUN_FINISHED = r"RUN_(SUCCESS|FAILURE) - "
STEP_EVENT = re.compile(r'(Started|Finished) execution of step "([^"]+)"')
# The random kill moments: from KILL_FROM seconds after the start to the reference run's
# length. OEX_KILL_SEEDS (numbers separated by commas or spaces) replaces the default seeds
# for a longer search. These three fall in start-up, ingestion and dbt on the 2-core machine
# the suite is measured on; where a moment lands varies with the machine and its load.
KILL_FROM = 1.0
KILL_SEEDS = [
    int(seed) for seed in os.environ.get("OEX_KILL_SEEDS", "1,5,7").replace(",", " ").split()
]


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


class Reference(NamedTuple):
    data_dir: Path
    fingerprint: dict
    seconds: float  # how long the run took, start-up included


@pytest.fixture(scope="module")
def reference(inbox_source: Path, tmp_path_factory) -> Reference:
    """An uninterrupted run: what every killed-then-re-run build must match."""
    data_dir = prepare_data_dir(inbox_source, tmp_path_factory.mktemp("reference"))
    started = time.monotonic()
    run_oex(data_dir, "run")
    seconds = time.monotonic() - started
    fingerprint = build_fingerprint(data_dir)
    assert fingerprint["marts"] and not fingerprint["leftovers"]
    assert fingerprint["warehouse"]["raw.orders"][0] == 3000  # bad rows are quarantined
    return Reference(data_dir, fingerprint, seconds)


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
    """Marts Parquet files are being written to a build folder that is not published yet."""
    marts = build.data_dir / "marts"

    def in_progress() -> bool:
        return not is_published(marts) and any(marts.glob(f"{settings.MARTS_BUILDS}/*/*.parquet"))

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
    assert any(marts.glob(f"{settings.MARTS_BUILDS}/*/*.parquet"))  # files written ...
    assert not is_published(marts)  # ... none published
    assert is_published(reference_dir / "marts")


def is_published(marts: Path) -> bool:
    return (marts / settings.MARTS_CURRENT).is_symlink()


def interrupted_stage(build: RunningBuild) -> str:
    """Where a stopped run was, by its log: the step in progress (steps run one at a time)."""
    if build.process.returncode == 0:
        return "none, the run had already ended"
    started, finished = [], set()
    for line in build.lines:
        if match := STEP_EVENT.search(line):
            event, step = match.groups()
            if event == "Started":
                started.append(step)
            else:
                finished.add(step)
    running = [step for step in started if step not in finished]
    if not started:
        return "start-up, before the first step"
    if not running and build.log_matches(RUN_FINISHED):
        return "wrap-up: the job had ended, its check results not yet recorded"
    if not running:
        return f"between steps, after {started[-1]}"
    step = running[-1]
    if step == "order_exceptions_dbt":
        return f"dbt, {build.log_matches(DBT_MODEL_BUILT)} models built"
    if step == "exported_marts":
        return "marts export"
    return f"{'checks' if step.startswith('gx_') else 'ingestion'}, in {step}"


def assert_same_as_uninterrupted(
    data_dir: Path, expected: dict, where: str = "", kept: Path | None = None
) -> None:
    """Every warehouse table (raw and the ledger included) and every marts file as the
    uninterrupted run left them, and nothing else but `kept`: the build of the marts the killed
    run had published, which the re-run's export keeps as the previous set for readers that
    may still be on it."""
    actual = build_fingerprint(data_dir)
    assert actual["leftovers"] == ([f"{settings.MARTS_BUILDS}/{kept.name}"] if kept else []), where
    assert actual["marts"] == expected["marts"], where
    assert actual["warehouse"].keys() == expected["warehouse"].keys(), where
    different = {
        table: (expected["warehouse"][table], checksum)
        for table, checksum in actual["warehouse"].items()
        if checksum != expected["warehouse"][table]
    }
    assert not different, where


STAGES = {
    "ingestion": (kill_during_ingestion, assert_ingestion_was_cut),
    "dbt": (kill_during_dbt, assert_dbt_was_cut),
    "export": (kill_during_export, assert_export_was_cut),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_run_killed_then_rerun_leaves_what_an_uninterrupted_run_leaves(
    stage: str, inbox_source: Path, reference: Reference, tmp_path: Path
):
    kill, assert_cut = STAGES[stage]
    data_dir = prepare_data_dir(inbox_source, tmp_path / "data")

    kill(RunningBuild(data_dir))
    assert_cut(data_dir, reference.data_dir)

    rerun = run_oex(data_dir, "run")
    assert "was killed before it finished" in rerun.stdout
    assert_same_as_uninterrupted(data_dir, reference.fingerprint)


@pytest.mark.parametrize("seed", KILL_SEEDS, ids=lambda seed: f"seed{seed}")
def test_a_run_killed_at_a_random_moment_then_rerun_leaves_what_an_uninterrupted_run_leaves(
    seed: int, inbox_source: Path, reference: Reference, tmp_path: Path
):
    """kill -9 of the whole process group at a moment drawn with random.Random(seed),
    uniformly between KILL_FROM seconds and the reference run's length, then `oex run` again.

    Seeds come from OEX_KILL_SEEDS (default 1,5,7), e.g. `OEX_KILL_SEEDS="$(seq 20)"` for a
    longer search. The stage each kill interrupted, read from the run's log, is printed (`-rP`
    or `-s` shows it) and named in any failure. A kill that lands after the run ended still
    counts: the re-run must then change nothing."""
    moment = random.Random(seed).uniform(KILL_FROM, reference.seconds)
    data_dir = prepare_data_dir(inbox_source, tmp_path / "data")

    build = RunningBuild(data_dir)
    build.kill_after(moment)
    stage = interrupted_stage(build)
    where = f"seed {seed}, kill at {moment:.1f} s of {reference.seconds:.1f} s: {stage}"
    print(where)
    # Killed, or ended by itself before the moment came; it never failed by itself.
    assert build.process.returncode in (0, -signal.SIGKILL), f"{where}\n{build.tail()}"
    marts = data_dir / "marts"
    published = settings.published_marts_dir(marts) if is_published(marts) else None

    rerun = run_oex(data_dir, "run")
    if build.process.returncode == 0:
        assert "was killed" not in rerun.stdout, where
    elif build.log_matches(RUN_STARTED) and not build.log_matches(RUN_FINISHED):
        assert "was killed before it finished" in rerun.stdout, where
    assert_same_as_uninterrupted(data_dir, reference.fingerprint, where, kept=published)


def test_a_contract_breaking_raw_table_stops_the_models_downstream(
    reference: Reference, tmp_path: Path
):
    data_dir = tmp_path / "data"
    shutil.copytree(reference.data_dir, data_dir, symlinks=True)  # marts/current stays a link
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
    """The published marts, by build folder, file and modification time. asset_checks.parquet
    lies beside them, left out: every run records its check results there, a failed one most
    of all."""
    published = settings.published_marts_dir(data_dir / "marts")
    return {
        str(path.relative_to(data_dir)): path.stat().st_mtime_ns for path in published.iterdir()
    }
