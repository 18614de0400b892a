"""The latest result of every asset check, exported to <marts_dir>/asset_checks.parquet.

The Data health page shows which checks pass (GX expectations on the raw tables, rows
in = loaded + quarantined, dbt tests) without opening the Dagster instance or the warehouse.
After each daily build, the command line (`oex run`) and the run-status sensors of the
automation area (runs started by the schedule, the inbox sensor or the UI) merge that run's
check evaluations into the file: a check not evaluated by this run keeps its last result.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pandas as pd

from pipelines import settings

FILE_NAME = "asset_checks.parquet"
KEY = ["asset_key", "check_name"]
COLUMNS = [*KEY, "passed", "severity", "description", "evaluated_at", "run_id"]


def run_check_results(instance: dg.DagsterInstance, run_id: str) -> pd.DataFrame:
    """One row per check evaluated in the run (the last evaluation when a check ran twice)."""
    rows = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation: dg.AssetCheckEvaluation = entry.dagster_event.event_specific_data
        rows.append(
            {
                "asset_key": evaluation.asset_key.to_user_string(),
                "check_name": evaluation.check_name,
                "passed": bool(evaluation.passed),
                "severity": evaluation.severity.value,
                "description": evaluation.description or "",
                # stored in UTC like every time in the marts; the page shows the reporting time zone
                "evaluated_at": datetime.fromtimestamp(entry.timestamp, UTC).replace(tzinfo=None),
                "run_id": run_id,
            }
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values("evaluated_at").drop_duplicates(KEY, keep="last")


def record_check_results(results: pd.DataFrame, marts_dir: Path) -> Path:
    """Merge results into marts_dir/asset_checks.parquet (temporary name, then rename)."""
    marts_dir.mkdir(parents=True, exist_ok=True)
    target = marts_dir / FILE_NAME
    known = pd.read_parquet(target) if target.exists() else pd.DataFrame(columns=COLUMNS)
    merged = (
        pd.concat([known[COLUMNS], results[COLUMNS]], ignore_index=True)
        .drop_duplicates(KEY, keep="last")
        .sort_values(KEY, ignore_index=True)
    )
    merged["passed"] = merged["passed"].astype(bool)
    merged["evaluated_at"] = pd.to_datetime(merged["evaluated_at"])
    temporary = marts_dir / f".{FILE_NAME}.tmp"
    merged.to_parquet(temporary, index=False)
    os.replace(temporary, target)
    return target


def record_run(instance: dg.DagsterInstance, run_id: str) -> int:
    """Record one run's check results; returns how many checks it evaluated."""
    results = run_check_results(instance, run_id)
    if not results.empty:
        record_check_results(results, settings.marts_dir())
    return len(results)
