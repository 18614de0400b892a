"""`oex run`: the daily build (ingest, check, dbt build, export marts) over a range of days.

It executes the same Dagster job the schedule and the inbox sensor start, in this process,
against the local instance, so a run from the command line shows up in the Dagster UI too.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import psutil
from dagster._core.utils import make_new_run_id
from rich.console import Console

from pipelines import marts, settings
from pipelines.defs.ingestion.profiles import load_profiles
from pipelines.defs.quality.results import record_run
from pipelines.inbox import implausible_day, inbox_files, partition_day_of
from pipelines.progress import RunProgress, print_summary, tools_output_to, write_run_log

DAILY_BUILD_JOB = "daily_build"
DBT_STEP = "order_exceptions_dbt"  # the op of the dbt assets
# Who runs a command-line build: its process id and start time (a pid alone can be reused).
PROCESS_TAG = "oex/process"
IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def _local_instance() -> dg.DagsterInstance:
    """The instance in DAGSTER_HOME (default .dagster_home/), configured by dagster.yaml."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.PROJECT_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    return dg.DagsterInstance.get()


def _this_process() -> str:
    process = psutil.Process()
    return f"{process.pid}:{process.create_time():.3f}"


def _process_is_gone(tag: str) -> bool:
    pid, started = tag.split(":")
    try:
        return f"{psutil.Process(int(pid)).create_time():.3f}" != started
    except (psutil.NoSuchProcess, ValueError):
        return True


def release_killed_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark command-line runs whose process died (kill -9, power loss) as failed.

    A killed in-process run stays STARTED and keeps its slot of the warehouse pool (limit 1)
    for ever, so the next run would wait for it without end. Failing it frees the slot;
    every step is idempotent, so the next run simply does the work again.
    """
    released = []
    for run in instance.get_runs(
        filters=dg.RunsFilter(job_name=DAILY_BUILD_JOB, statuses=IN_PROGRESS)
    ):
        tag = run.tags.get(PROCESS_TAG)
        if tag is None or not _process_is_gone(tag):
            continue  # started elsewhere (UI, daemon) or still running: not ours to end
        instance.report_run_failed(run, "Its process was killed before the run finished.")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


def inbox_days() -> list[date]:
    """The delivery days of every file waiting in the inbox (a file whose name holds an
    impossible day is left out: ingestion rejects it, naming the day)."""
    return sorted(
        {
            partition_day_of(path)
            for path in inbox_files(settings.inbox_dir())
            if not implausible_day(path)
        }
    )


def dbt_run_config(full_refresh: bool) -> dict:
    """Run config of the daily_build job: the dbt asset's DbtBuildConfig."""
    return {"ops": {DBT_STEP: {"config": {"full_refresh": full_refresh}}}}


class RunInProgressError(Exception):
    """Another `oex run` holds the warehouse: this one did nothing."""


@contextmanager
def one_run_at_a_time() -> Iterator[None]:
    """Hold the run lock beside the warehouse for as long as the run lasts.

    DuckDB lets one process write the warehouse; a second run started meanwhile would fail
    half-way on its lock. It stops before touching anything instead, naming the run in
    progress. The lock is the operating system's (flock): a killed run releases it."""
    lock_path = settings.warehouse_path().parent / ".oex-run.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise RunInProgressError(
                f"Another oex run is in progress ({holder}) on {settings.warehouse_path()}: "
                "this one stopped before touching anything; run it again when that one ends."
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}, started {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run_daily_build(
    date_from: date | None = None,
    date_to: date | None = None,
    full_refresh: bool = False,
    verbose: bool = False,
) -> bool:
    """One run at a time (see one_run_at_a_time), then the build."""
    with one_run_at_a_time():
        return _run_daily_build(date_from, date_to, full_refresh, verbose)


def _run_daily_build(
    date_from: date | None,
    date_to: date | None,
    full_refresh: bool,
    verbose: bool,
) -> bool:
    """Run the daily build for [date_from, date_to] (default: every day with files in the inbox).

    dbt rebuilds only the orders the run touches; full_refresh rebuilds every order. The
    console shows the run's progress by step; verbose adds Dagster's own log of every event
    (always written to the run's log file)."""
    inbox = settings.inbox_dir()
    if not inbox.is_dir():
        raise UserError(
            f"The inbox folder {inbox} does not exist: create it (or point OEX_INBOX at yours) "
            "and drop files there, or run `oex generate`."
        )
    days = inbox_days()
    if not days and (date_from is None or date_to is None):
        print(f"The inbox {inbox} is empty: run `oex generate` or drop files there.")
        return False
    load_profiles(settings.profiles_dir())  # a misspelt profile stops the run before it starts
    settings.check_engine_installed()  # OEX_ENGINE=spark without its packages or Java: say so
    first = (date_from or days[0]).isoformat()
    last = (date_to or days[-1]).isoformat()
    from pipelines.definitions import defs
    from pipelines.defs.partitions import DAILY_PARTITIONS

    # The daily partitions start at the earliest delivery day in the inbox (or OEX_FIRST_DAY),
    # so a history import of files dated years back needs no setting; before that day there
    # are no files to ingest.
    earliest = DAILY_PARTITIONS.get_first_partition_key()
    latest = DAILY_PARTITIONS.get_last_partition_key()
    before = [day for day in days if day.isoformat() < earliest]
    if before:
        print(
            f"{len(before)} day(s) of files before the first partition {earliest} "
            f"(OEX_FIRST_DAY) are not ingested: {before[0]} .. {before[-1]}"
        )
    first, last = max(first, earliest), min(last, latest)
    if days and not any(first <= day.isoformat() <= last for day in days):
        print(
            f"No file was delivered between {date_from or first} and {date_to or last}: the "
            f"inbox's files are of {days[0]} .. {days[-1]}. A file's day is the date in its name, "
            "else the day it was written, not the dates inside it; `oex import-history` loads "
            "every file in the inbox."
        )
        return False
    if last < first:
        print(f"Nothing to run: no partition between {first} and {last}.")
        return False

    job = defs.resolve_job_def(DAILY_BUILD_JOB)
    instance = _local_instance()
    for killed in release_killed_runs(instance):
        print(f"Run {killed} was killed before it finished; marked failed, its work is redone.")
    mode = " (full refresh of every incremental model)" if full_refresh else ""
    run_id = make_new_run_id()
    log_file = settings.reports_dir() / "runs" / f"{run_id}.log"
    with tools_output_to(None if verbose else log_file) as terminal:
        console = Console(file=terminal, highlight=False, soft_wrap=True)
        console.print(f"Daily build for {first} .. {last}{mode}{engine_note()}")
        # Dagster's own console log (every event, at DEBUG) only on request: it is in the log
        # file
        console_level = "DEBUG" if verbose else "CRITICAL"
        progress = RunProgress(instance, run_id, console, dbt_model_count())
        progress.start()
        try:
            result = job.execute_in_process(
                run_config={
                    **dbt_run_config(full_refresh),
                    "loggers": {"console": {"config": {"log_level": console_level}}},
                },
                instance=instance,
                run_id=run_id,
                tags={
                    PROCESS_TAG: _this_process(),
                    "dagster/asset_partition_range_start": first,
                    "dagster/asset_partition_range_end": last,
                },
                raise_on_error=False,
            )
        finally:
            done = progress.finish()
        write_run_log(instance, run_id, log_file)
        checks = record_run(instance, result.run_id)
        console.print(
            f"{checks} check results recorded in {settings.marts_dir() / 'asset_checks.parquet'}"
        )
        print_summary(console, done, result.success, log_file)
    return result.success


def engine_note() -> str:
    """How the run's header names a build on Spark (nothing for the default, DuckDB)."""
    if not settings.is_spark():
        return ""
    return f", dbt on Spark (output {settings.dbt_target()})"


def data_span() -> str:
    """What the marts now hold: orders, their first and last day and the review weeks."""
    import duckdb

    published = settings.published_marts_dir()
    if not marts.files(published, "fct_orders"):
        return "No marts were exported."
    with duckdb.connect() as connection:
        count, weeks, first, last = connection.execute(
            "select count(*), count(distinct week), min(week), max(week) from read_parquet(?)",
            [marts.source(published, "fct_orders")],
        ).fetchall()[0]
    return (
        f"The marts hold {count:,} orders in {weeks} review weeks, {first} to {last} "
        f"(weeks of {settings.reporting_timezone()})."
    )


def dbt_model_count() -> int:
    """The dbt project's models, from the parsed manifest (what the progress counts up to)."""
    manifest = settings.DBT_PROJECT_DIR / "target" / "manifest.json"
    if not manifest.is_file():
        return 0
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"]
    return sum(1 for node in nodes.values() if node["resource_type"] == "model")


class UserError(Exception):
    """Something a user can fix (a missing folder, a bad profile): one line, no traceback."""
