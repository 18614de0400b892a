"""`oex run`: the daily build (ingest, check, dbt build, export marts) over a range of days.

It executes the same Dagster job the schedule and the inbox sensor start, in this process,
against the local instance, so a run from the command line shows up in the Dagster UI too.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import dagster as dg

from pipelines import settings
from pipelines.defs.ingestion.files import inbox_files, partition_day_of
from pipelines.defs.partitions import DAILY_PARTITIONS

DAILY_BUILD_JOB = "daily_build"


def _local_instance() -> dg.DagsterInstance:
    """The instance in DAGSTER_HOME (default .dagster_home/), configured by dagster.yaml."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.PROJECT_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    return dg.DagsterInstance.get()


def inbox_days() -> list[date]:
    """The business days of every file waiting in the inbox."""
    return sorted({partition_day_of(path) for path in inbox_files(settings.inbox_dir())})


def run_daily_build(date_from: date | None = None, date_to: date | None = None) -> bool:
    """Run the daily build for [date_from, date_to] (default: every day with files in the inbox)."""
    days = inbox_days()
    if not days and (date_from is None or date_to is None):
        print(f"The inbox {settings.inbox_dir()} is empty: run `oex generate` or drop files there.")
        return False
    first = (date_from or days[0]).isoformat()
    last = (date_to or days[-1]).isoformat()
    earliest = DAILY_PARTITIONS.start.date().isoformat()
    if first < earliest:
        print(f"Files for {first} predate the first daily partition ({earliest}).")
        return False
    from pipelines.definitions import defs

    job = defs.resolve_job_def(DAILY_BUILD_JOB)
    print(f"Daily build for {first} .. {last}")
    result = job.execute_in_process(
        instance=_local_instance(),
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
        raise_on_error=False,
    )
    _print_summary(result)
    return result.success


def _print_summary(result: dg.ExecuteInProcessResult) -> None:
    # A range run records one materialisation per day with the same run-wide metadata, so
    # each asset is shown once.
    shown_assets: set[str] = set()
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        asset = materialization.asset_key.to_user_string()
        figures = {
            key: value.value
            for key, value in materialization.metadata.items()
            if key in {"rows_read", "rows_loaded", "rows_quarantined", "files", "rows"}
        }
        if figures and asset not in shown_assets:
            shown_assets.add(asset)
            print(f"  {asset:32} {figures}")
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            level = "failed" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warns"
            asset = evaluation.asset_key.to_user_string()
            reason = evaluation.description or ""
            print(f"  check {level}: {asset} {evaluation.check_name} {reason}")
    print("Run succeeded." if result.success else "Run failed: see the messages above.")
