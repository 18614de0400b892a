"""The whole pipeline from a clean data folder, through `oex`, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines import marts as mart_files
from pipelines import settings
from pipelines.contract import load_contract
from pipelines.risk import evaluation, stockout

pytestmark = pytest.mark.slow

CONTRACT_TABLES = list(load_contract())


def oex(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "OEX_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
    }
    for variable in (
        "OEX_WAREHOUSE",
        "OEX_INBOX",
        "OEX_MARTS",
        "OEX_TRUTH",
        "OEX_REPORTS",
        "OEX_EXPORTS",
        "OEX_DUCKDB_TEMP",
    ):
        env.pop(variable, None)
    command = [sys.executable, "-m", "pipelines.cli", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, f"oex {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def raw_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        counts = {
            table: connection.execute(f"select count(*) from raw.{table}").fetchone()[0]
            for table in CONTRACT_TABLES
        }
        counts["quarantine"] = connection.execute("select count(*) from raw.quarantine").fetchone()[
            0
        ]
    return counts


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("data")
    oex(
        data_dir,
        "generate",
        "--orders",
        "20000",
        "--days",
        "35",
        "--merchants",
        "4",
        "--seed",
        "7",
        "--bad-rows",
        "0.002",
    )
    result = oex(data_dir, "run")
    (data_dir / "run-output.txt").write_text(result.stdout + result.stderr, encoding="utf-8")
    return data_dir


def test_the_run_shows_progress_by_step_and_names_its_full_log(built: Path):
    output = (built / "run-output.txt").read_text(encoding="utf-8")
    lines = output.splitlines()

    assert "\x1b[" not in output  # no colour codes when the output is not a terminal
    assert "DEBUG" not in output and "BetaWarning" not in output
    assert len(lines) < 80, len(lines)
    for table in CONTRACT_TABLES:
        assert any(line.startswith("ingested ") and f"/{table} " in line for line in lines), table
    built_models = [line for line in lines if line.startswith("dbt: ")]
    assert built_models and built_models[-1].split()[1] == built_models[-1].split()[3]
    assert any(line.startswith("exported the marts") for line in lines)
    (summary,) = [line for line in lines if "Full log: " in line]
    assert summary.startswith("Run succeeded.")
    log = Path(summary.split("Full log: ")[1].strip())
    assert log.is_file() and "STEP_SUCCESS" in log.read_text(encoding="utf-8")


def test_every_row_read_is_loaded_or_quarantined(built: Path):
    with duckdb.connect(str(built / "warehouse.duckdb"), read_only=True) as connection:
        read, loaded, quarantined = connection.execute(
            "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined) from raw.ingested_files"
        ).fetchone()
        landed = sum(
            connection.execute(f"select count(*) from raw.{table}").fetchone()[0]
            for table in CONTRACT_TABLES
        )
        in_quarantine = connection.execute("select count(*) from raw.quarantine").fetchone()[0]
    assert read == loaded + quarantined
    assert landed == loaded
    assert in_quarantine == quarantined
    # --bad-rows injected malformed rows: each is in quarantine, none lost, none loaded, and
    # no good row is quarantined.
    manifest = json.loads((built / "truth" / "manifest.json").read_text())
    assert quarantined == sum(manifest["bad_rows_by_kind"].values()) > 0


def test_a_second_run_adds_nothing(built: Path):
    before = raw_counts(built / "warehouse.duckdb")
    oex(built, "run")
    assert raw_counts(built / "warehouse.duckdb") == before


def test_marts_are_exported_for_the_dashboard(built: Path):
    published = settings.published_marts_dir(built / "marts")
    # a mart is a file, or a folder of partitions (pipelines/marts.py)
    names = {path.name.removesuffix(".parquet") for path in published.iterdir()}
    assert {
        "fct_order_exceptions",
        "fct_orders",
        "rpt_weekly_exception_summary",
        "rpt_recurring_issues",
        "rpt_root_causes",
    } <= names
    orders_in_inbox = duckdb.sql(
        "select count(*) from read_csv($files, header=true, all_varchar=true)",
        params={"files": [str(path) for path in (built / "inbox" / "orders").glob("orders_*.csv")]},
    ).fetchall()[0][0]
    orders_in_mart = duckdb.sql(
        "select count(*) from read_parquet($file)",
        params={"file": mart_files.source(published, "fct_orders")},
    ).fetchall()[0][0]
    # Bad rows are extra orders that ingestion quarantined; every good order reaches the mart.
    assert orders_in_mart == 20000 < orders_in_inbox


def test_detection_matches_the_ground_truth(built: Path):
    oex(built, "evaluate", "--ceiling")
    accuracy = json.loads((built / "reports" / "accuracy.json").read_text())
    truth_codes = duckdb.sql(
        "select distinct exception_type from read_parquet($file)",
        params={"file": str(built / "truth" / "exceptions.parquet")},
    ).fetchall()
    assert set(accuracy) >= {code for (code,) in truth_codes}
    # every sub-type, however few its cases, exactly (the README promises 1.0 for all)
    weak = {
        code: scores
        for code, scores in accuracy.items()
        if scores["precision"] != 1.0 or scores["recall"] != 1.0
    }
    assert not weak, weak
    assert all(accuracy[code]["support"] > 0 for (code,) in truth_codes)
    # five weeks are too short to replay the late-delivery model: said, not a failure
    risk = json.loads((built / "reports" / "risk.json").read_text())
    assert "about 40 days of history" in risk["late_delivery"]["not_enough_history"]
    # the stock-out replay, and again knowing what no model can (the ceiling), on the same days
    ceiling = json.loads((built / "reports" / "risk_ceiling.json").read_text())
    assert ceiling["as it scores"]["precision"] == risk["stock_out"]["precision"]
    assert set(ceiling) == {
        "as it scores",
        "knowing the true demand",
        "knowing each arrival",
        "knowing both",
    }


def test_an_export_without_truth_still_gets_its_risks_replayed(built: Path):
    """A real export has no generator truth: the flags' accuracy cannot be measured there,
    the risks can (their outcomes are the exceptions the warehouse flagged)."""
    reports = built / "reports"
    (reports / "accuracy.json").unlink(missing_ok=True)
    (built / "truth").rename(built / "truth_aside")
    try:
        result = oex(built, "evaluate")
    finally:
        (built / "truth_aside").rename(built / "truth")
    assert result.stdout.startswith(f"no generator truth in {built / 'truth'}")
    assert not (reports / "accuracy.json").exists()
    risk = json.loads((reports / "risk.json").read_text())
    with duckdb.connect(str(built / "warehouse.duckdb"), read_only=True) as connection:
        replayed = stockout.backtest_stockout(connection, evaluation.stock_days(connection))
    assert risk["stock_out"]["flagged"] > 0
    assert (risk["stock_out"]["precision"], risk["stock_out"]["recall"]) == (
        replayed["precision"],
        replayed["recall"],
    )


def test_check_results_are_exported_for_data_health(built: Path):
    checks = duckdb.sql(
        "select asset_key, check_name, passed, severity from read_parquet($file)",
        params={"file": str(built / "marts" / "asset_checks.parquet")},
    ).df()
    by_name = checks.groupby("check_name")["asset_key"].apply(set)
    # The ingestion balance check of every input table was recorded ...
    balanced = {key.split("/")[-1] for key in by_name["rows_accounted"]}
    assert set(CONTRACT_TABLES) <= balanced
    # ... and the dbt tests, as checks on the models they test.
    assert any(name.startswith(("unique_", "not_null_")) for name in by_name.index)
    # Every blocking check passed on clean data with quarantined bad rows.
    assert checks.loc[checks["severity"] == "ERROR", "passed"].all()
