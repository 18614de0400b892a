"""The sensors: a file dropped in the inbox starts the daily build of its day(s), and a
finished daily build exports its check results for the Data health page.

It only looks at the file system (name, modification time, size): a sensor must never hold
a DuckDB connection, since the run it starts needs the single write lock.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from pipelines import settings
from pipelines.defs.automation.jobs import daily_build
from pipelines.defs.partitions import DAILY_PARTITIONS
from pipelines.defs.quality.results import record_run
from pipelines.inbox import implausible_day, inbox_files, partition_day_of, readable_name

# A file modified in the last few seconds may still be being copied: it waits a tick.
SETTLE_SECONDS = 5


def file_signature(path: Path) -> str:
    stat = path.lstat()  # a link's own: ingestion refuses links, so a broken one is a file too
    return f"{stat.st_mtime_ns}:{stat.st_size}"


def _load_cursor(cursor: str | None) -> dict[str, str]:
    return json.loads(cursor)["files"] if cursor else {}


def ingested_before() -> dict[str, float]:
    """When each inbox file was last ingested (epoch seconds), from the exported ledger
    (rpt_ingestion_health): a sensor starting without a cursor (a new `dagster dev` on a
    warehouse built by `oex run`) must not start a run over every file again. The Parquet
    export is read, never the warehouse: a sensor holds no DuckDB connection."""
    ledger = settings.published_marts_dir() / "rpt_ingestion_health.parquet"
    if not ledger.is_file():
        return {}
    latest = (
        pq.read_table(ledger, columns=["source_file", "ingested_at"])
        .group_by("source_file")
        .aggregate([("ingested_at", "max")])
    )
    return {
        name: moment.replace(tzinfo=UTC).timestamp()
        for name, moment in zip(
            latest.column("source_file").to_pylist(),
            latest.column("ingested_at_max").to_pylist(),
            strict=True,
        )
        if moment is not None
    }


def _run_request(days: list[str], files: list[str], signatures: dict[str, str]) -> dg.RunRequest:
    # The same new files always give the same run key, so a repeated tick starts nothing.
    run_key = hashlib.sha256(
        "\n".join(f"{name}:{signatures[name]}" for name in files).encode()
    ).hexdigest()[:32]
    tags = {"oex/trigger": "inbox_sensor", "oex/new_files": str(len(files))}
    if len(days) == 1:
        return dg.RunRequest(run_key=run_key, partition_key=days[0], tags=tags)
    # One run over the whole range: the assets see a partition key range and the warehouse
    # pool is taken once, instead of one queued run per day.
    return dg.RunRequest(
        run_key=run_key,
        tags={
            **tags,
            "dagster/asset_partition_range_start": days[0],
            "dagster/asset_partition_range_end": days[-1],
        },
    )


@dg.sensor(
    job=daily_build,
    # a file waits at most this long for the daemon to look: evaluating the sensor is a stat of
    # the inbox files, cheap enough to do often (make bench measures the whole latency)
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts the daily build for the days of new or changed files in the inbox.",
)
def inbox_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """New or changed inbox files (by path, modification time and size) → one daily_build run
    over their partition days."""
    inbox = settings.inbox_dir()
    seen = _load_cursor(context.cursor)
    ingested = ingested_before() if context.cursor is None else {}
    now = time.time()
    last_day = DAILY_PARTITIONS.get_last_partition_key()
    first_day = DAILY_PARTITIONS.get_first_partition_key()

    current: dict[str, str] = {}
    new_files: list[str] = []
    days: set[str] = set()
    for path in inbox_files(inbox):
        name = readable_name(path, inbox)
        signature = file_signature(path)
        if seen.get(name) == signature or ingested.get(name, 0) >= path.lstat().st_mtime:
            current[name] = signature  # seen by this sensor, or ingested since it was written
            continue
        if now - path.lstat().st_mtime < SETTLE_SECONDS:
            continue  # still arriving; next tick
        if implausible_day(path):
            context.log.warning(
                f"{name}: {implausible_day(path)} in its name is not a delivery day; "
                "the next run records it as rejected"
            )
            continue
        day = partition_day_of(path).isoformat()
        if last_day is None or day > last_day:
            # The day's partition does not exist yet: the file waits, it is not dropped.
            context.log.info(f"{name}: partition {day} does not exist yet; waiting")
            continue
        current[name] = signature
        if day < first_day:
            context.log.warning(
                f"{name}: day {day} is before the first partition {first_day}; "
                "it cannot be ingested by the daily build"
            )
            continue
        new_files.append(name)
        days.add(day)

    cursor = json.dumps({"files": current}, sort_keys=True)
    if not new_files:
        return dg.SensorResult(skip_reason="no new files in the inbox", cursor=cursor)
    context.log.info(f"{len(new_files)} new file(s) for {min(days)} .. {max(days)}")
    request = _run_request(sorted(days), sorted(new_files), current)
    return dg.SensorResult(run_requests=[request], cursor=cursor)


def _record_finished_run(context: dg.RunStatusSensorContext) -> dg.SkipReason:
    count = record_run(context.instance, context.dagster_run.run_id)
    return dg.SkipReason(f"recorded {count} check result(s) of run {context.dagster_run.run_id}")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[daily_build],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Exports the check results of a successful daily build for the Data health page.",
)
def check_results_after_success(context: dg.RunStatusSensorContext) -> dg.SkipReason:
    return _record_finished_run(context)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.FAILURE,
    monitored_jobs=[daily_build],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Exports the check results of a failed daily build: a blocking check that "
    "failed is what the Data health page must show.",
)
def check_results_after_failure(context: dg.RunStatusSensorContext) -> dg.SkipReason:
    return _record_finished_run(context)
