"""`oex bench`: how fast the stack is at warehouse scale, next to the limits that bound it.

For each size (in orders) it generates Parquet inputs for DAYS + 1 days in a scratch folder,
holds the last day's files back and measures, each in its own process so the OS reports its
memory:
- full_build_s / peak_rss_mb: `oex run` on the DAYS days (ingest, checks, dbt build, export),
  peak resident memory of the whole process tree (polled from the OS);
- incremental_s: the first held-back day's files dropped in, `oex run --from DAY --to DAY`;
- latency_s: the second held-back day's files copied into the inbox while the Dagster daemon
  runs, as in production: the daemon evaluates inbox_sensor, which starts daily_build, and the
  clock stops when the published marts hold the day's orders and their exceptions;
- full_build_steps_s / incremental_steps_s: where each run's time went (ingestion, checks,
  dbt, export steps, and the rest: start-up and Dagster's bookkeeping), from its event log;
- floor_s: DuckDB reading every value of every input file once (an aggregate over a hash of
  all columns, which file metadata cannot answer);
- pandas_s / pandas_peak_rss_mb: the script an analyst would write instead (see PEER_FIGURES),
  checked to give the same numbers as our warehouse;
- page_query_s: each dashboard page's server-side time on the marts (cold caches).
The top-level scaling_exponent is log(time ratio) / log(size ratio) of the full build between
the smallest and the largest size: 1.0 is linear; daily_ratio_10m_1m is the daily run at 10M
orders over the daily run at 1M (1.0: a day costs what the day holds, not the history).

PEER_FIGURES, the numbers both sides compute: for every exception the handling log records
(a distinct order_id, exception_type), its review week (ISO week of the order's placed date in
Asia/Shanghai), the exceptions per week and sub-type, the sub-type's share of the week's
handled exceptions, and the median hours from the first handling action to the first
`resolved` action. The handling log is what pandas can reproduce without re-implementing the
32 detection rules; on our side the same figures come from marts.fct_order_exceptions
(first_response_at, resolved_at, week) restricted to the exceptions with a handling log.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import psutil

from pipelines import marts, settings

BENCH_DAYS = 91
HELD_BACK_DAYS = 2  # the daily run's day, then the day whose latency is measured
POLL_SECONDS = 0.1
DAEMON_START_TIMEOUT_S = 300
LATENCY_TIMEOUT_S = 3600
TABLES = {  # domain folder -> tables whose files it holds
    "orders": ["orders", "order_lines", "order_events"],
    "stock": ["skus", "stock_snapshots"],
    "logistics": ["shipments", "tracking_events"],
    "feedback": ["tickets", "handling_log"],
}
FIGURE_COLUMNS = ["week", "exception_type", "exceptions", "type_share", "median_handling_hours"]


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_mb: float
    output: str


def _tree_rss(process: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants (dbt, DuckDB run in children)."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def measure(command: list[str], env: dict[str, str], cwd: Path) -> Measured:
    """Wall time and peak resident memory of the command's whole process tree."""
    started = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as output:
        child = subprocess.Popen(command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
        watched = psutil.Process(child.pid)
        peak = 0
        while child.poll() is None:
            with contextlib.suppress(psutil.NoSuchProcess):
                peak = max(peak, _tree_rss(watched))
            time.sleep(POLL_SECONDS)
        seconds = time.perf_counter() - started
        output.seek(0)
        text = output.read()
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({child.returncode}):\n{text[-4000:]}")
    return Measured(round(seconds, 2), round(peak / 2**20, 1), text)


def bench_environment(workdir: Path) -> dict[str, str]:
    """Every path of a run inside workdir; the real source profiles; no telemetry."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OEX_")}
    env.update(
        {
            "OEX_DATA_DIR": str(workdir),
            "OEX_PROFILES": str(settings.profiles_dir()),
            "DAGSTER_HOME": str(workdir / "dagster_home"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "GX_ANALYTICS_ENABLED": "false",
            "PYTHONWARNINGS": "ignore",
        }
    )
    for name in ("OEX_DUCKDB_MEMORY_LIMIT", "OEX_DUCKDB_THREADS", "OEX_DBT_THREADS"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def oex(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", *arguments]


def parse_dbt_project(env: dict[str, str]) -> None:
    """`make manifest` in the runs' environment, so each run reuses the parse as it does on a
    user's machine."""
    subprocess.run([sys.executable, "-m", "pipelines.settings"], env=env, check=True)


RISK_STEPS = ("rpt_delivery_risk", "rpt_stockout_risk")


def step_kind(step_key: str) -> str:
    """The part of the daily build a Dagster step belongs to."""
    if step_key.startswith("gx_"):
        return "checks"
    if step_key in RISK_STEPS:
        return "risk"  # scoring, and on a first build training the late-delivery model
    return {"order_exceptions_dbt": "dbt", "exported_marts": "export"}.get(step_key, "ingestion")


def last_run_seconds(dagster_home: Path, total_s: float) -> dict[str, float]:
    """Where the last run's time went: the seconds of each kind of step, and the rest of the
    process (start-up, loading the definitions, Dagster's run bookkeeping, recording the
    check results)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.get_runs(limit=1)[0]
        steps = instance.get_run_step_stats(run.run_id)
    seconds = dict.fromkeys(("ingestion", "checks", "dbt", "risk", "export"), 0.0)
    for step in steps:
        seconds[step_kind(step.step_key)] += step.end_time - step.start_time
    rest = total_s - sum(seconds.values())
    return {**{kind: round(value, 1) for kind, value in seconds.items()}, "rest": round(rest, 1)}


def files_by_day(inbox: Path) -> dict[date, list[Path]]:
    from pipelines.inbox import partition_day_of

    days: dict[date, list[Path]] = {}
    for path in sorted(inbox.rglob("*.parquet")):
        days.setdefault(partition_day_of(path), []).append(path)
    return days


# Master data, not a day's transactions: the generator dates the one SKU master with the last
# day, and without it every order of the history would be flagged sku_unknown.
MASTER_DATA = ("stock/skus_",)


def hold_back_last_days(
    inbox: Path, held: Path, count: int
) -> list[tuple[date, list[tuple[Path, Path]]]]:
    """Move the last `count` days' transaction files out of the inbox (master data stays);
    returns each day, oldest first, with its (held, inbox) pairs."""
    days = files_by_day(inbox)
    held_back = []
    for day in sorted(days)[-count:]:
        moves = []
        for path in days[day]:
            if path.relative_to(inbox).as_posix().startswith(MASTER_DATA):
                continue
            target = held / day.isoformat() / path.relative_to(inbox)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
            moves.append((target, path))
        held_back.append((day, moves))
    return held_back


def table_files(inbox: Path, domain: str, table: str) -> str:
    # tables share a folder and `orders_*` would also match `order_lines_*`: the date follows
    return str(inbox / domain / f"{table}_????-??-??.parquet")


def reference_floor(inbox: Path) -> float:
    """Seconds for DuckDB to read every value of every input file once."""
    started = time.perf_counter()
    with duckdb.connect(config={"threads": os.cpu_count() or 1}) as connection:
        for domain, tables in TABLES.items():
            for table in tables:
                pattern = table_files(inbox, domain, table)
                if not list(Path(pattern).parent.glob(Path(pattern).name)):
                    continue
                columns = [
                    row[0]
                    for row in connection.execute(
                        "select column_name from (describe select * from read_parquet(?))",
                        [pattern],
                    ).fetchall()
                ]
                hashed = ", ".join('"' + name.replace('"', '""') + '"' for name in columns)
                connection.execute(
                    f"select bit_xor(hash({hashed})) from read_parquet(?)", [pattern]
                ).fetchall()
    return round(time.perf_counter() - started, 2)


def peer_figures_pandas(inbox: Path) -> pd.DataFrame:
    """PEER_FIGURES the way an analyst would compute them with pandas from the input files."""

    def read(domain: str, table: str, columns: list[str]) -> pd.DataFrame:
        files = sorted((inbox / domain).glob(f"{table}_????-??-??.parquet"))
        return pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)

    orders = read("orders", "orders", ["order_id", "placed_at"])
    orders = orders.drop_duplicates("order_id", keep="last")
    log = read(
        "feedback",
        "handling_log",
        ["action_id", "order_id", "exception_type", "action", "action_at"],
    )
    log = log.drop_duplicates("action_id", keep="last")
    keys = ["order_id", "exception_type"]
    first_action = log.groupby(keys, as_index=False)["action_at"].min()
    resolved = (
        log[log["action"] == "resolved"]
        .groupby(keys, as_index=False)["action_at"]
        .min()
        .rename(columns={"action_at": "resolved_at"})
    )
    handled = first_action.merge(resolved, on=keys, how="left").merge(orders, on="order_id")
    # the files hold Asia/Shanghai times (data/profiles/default.yml): the review week is
    # the ISO week of the placed time as written
    local = handled["placed_at"].dt.isocalendar()
    handled["week"] = local["year"].astype(str) + "-W" + local["week"].astype(str).str.zfill(2)
    handled["hours"] = (handled["resolved_at"] - handled["action_at"]).dt.total_seconds() / 3600.0
    figures = (
        handled.groupby(["week", "exception_type"])
        .agg(exceptions=("order_id", "size"), median_handling_hours=("hours", "median"))
        .reset_index()
    )
    weekly = figures.groupby("week")["exceptions"].transform("sum")
    figures["type_share"] = figures["exceptions"] / weekly
    return _sorted(figures)


def peer_figures_warehouse(warehouse: Path) -> pd.DataFrame:
    """PEER_FIGURES from our marts (the handled exceptions of fct_order_exceptions)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        figures = connection.sql(
            """
            with handled as (
                select distinct order_id, exception_type,
                from staging.stg_feedback__handling_log
            ),
            exceptions as (
                select week, exception_type, first_response_at, resolved_at,
                from marts.fct_order_exceptions
                semi join handled using (order_id, exception_type)
            ),
            final as (
                select
                    week,
                    exception_type,
                    count(*) as exceptions,
                    count(*) / sum(count(*)) over (partition by week) as type_share,
                    median(epoch(resolved_at - first_response_at) / 3600.0)
                        as median_handling_hours,
                from exceptions
                group by week, exception_type
            )
            select * from final
            """
        ).df()
    return _sorted(figures)


def _sorted(figures: pd.DataFrame) -> pd.DataFrame:
    figures = figures[FIGURE_COLUMNS].sort_values(["week", "exception_type"])
    figures["exceptions"] = figures["exceptions"].astype("int64")
    for column in ("type_share", "median_handling_hours"):
        figures[column] = figures[column].astype("float64")
    figures["week"] = figures["week"].astype(str)
    figures["exception_type"] = figures["exception_type"].astype(str)
    return figures.reset_index(drop=True)


def figures_differences(ours: pd.DataFrame, theirs: pd.DataFrame) -> list[str]:
    """Human-readable differences between the two sides (empty: they agree)."""
    keys = ["week", "exception_type"]
    joined = ours.merge(
        theirs, on=keys, how="outer", suffixes=("_ours", "_pandas"), indicator="side"
    )
    problems = [
        f"{row.week} {row.exception_type} only in "
        + ("our marts" if row.side == "left_only" else "pandas")
        for row in joined[joined["side"] != "both"].itertuples()
    ]
    both = joined[joined["side"] == "both"]
    for column in FIGURE_COLUMNS[2:]:
        left, right = both[f"{column}_ours"], both[f"{column}_pandas"]
        same = ((left - right).abs() <= 1e-6) | (left.isna() & right.isna())
        problems += [
            f"{row.week} {row.exception_type} {column}: ours {getattr(row, column + '_ours')}, "
            f"pandas {getattr(row, column + '_pandas')}"
            for row in both[~same].itertuples()
        ]
    return problems


def page_query_seconds(marts_dir: Path, env: dict[str, str], cwd: Path) -> dict[str, float]:
    """Each dashboard page's server-side time with cold caches (dashboards/page_timing.py)."""
    measured = measure([sys.executable, "-m", "dashboards.page_timing", str(marts_dir)], env, cwd)
    text = measured.output
    timings = json.loads(text[text.index("{") :])
    return {page: figures["cold"] for page, figures in timings.items()}


def _published_build(marts_dir: Path) -> str:
    current = marts_dir / settings.MARTS_CURRENT
    return os.readlink(current) if current.is_symlink() else ""


def _sensor_has_ticked(instance, sensor_name: str) -> bool:
    from dagster._core.scheduler.instigation import InstigatorType as Kind

    for state in instance.all_instigator_state(instigator_type=Kind.SENSOR):
        if state.instigator_name == sensor_name and instance.get_ticks(
            state.instigator_origin_id, state.selector_id, limit=1
        ):
            return True
    return False


def _sensor_runs(instance) -> list:
    import dagster as dg

    return list(instance.get_runs(filters=dg.RunsFilter(tags={"oex/trigger": "inbox_sensor"})))


def _wait(condition, timeout_s: float, what: str, daemon: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if daemon.poll() is not None:
            raise RuntimeError(f"the Dagster daemon stopped ({daemon.returncode}) {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout_s} s {what}")
        time.sleep(POLL_SECONDS)


def _stop(daemon: subprocess.Popen) -> None:
    """The daemon and everything it started (its code server, a run still going), waited
    for: their files in the scratch folder are removed next."""
    try:
        started = psutil.Process(daemon.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        started = []
    with contextlib.suppress(ProcessLookupError):
        os.killpg(daemon.pid, signal.SIGTERM)
    for process in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    try:
        daemon.wait(timeout=60)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()
    # and whatever of its group outlived it (a code server whose parent had already exited)
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
            if (
                process.pid not in (p.pid for p in started)
                and os.getpgid(process.pid) == daemon.pid
            ):
                started.append(process)
    _, alive = psutil.wait_procs(started, timeout=60)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(alive, timeout=10)


def inbox_to_marts_latency(
    workdir: Path, env: dict[str, str], moves: list[tuple[Path, Path]]
) -> dict:
    """Seconds from a day's files landing in the inbox to their orders' exceptions in the
    published marts, the way production gets there: the Dagster daemon (started here, as
    `dagster dev` or a deployment runs it) evaluates inbox_sensor every
    minimum_interval_seconds, the sensor lets a file settle SETTLE_SECONDS and requests a
    daily_build run of its day, the daemon's run queue launches it, and its last step
    publishes the marts. The files are copied in (a fresh modification time, as a file that
    lands) once the sensor has evaluated the inbox as it was."""
    import dagster as dg

    dagster_home = workdir / "dagster_home"
    log = (workdir / "daemon.log").open("w")
    daemon = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-m", "pipelines.definitions"],
        env=env,
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped whole, its run included
    )
    try:
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            _wait(
                lambda: _sensor_has_ticked(instance, "inbox_sensor"),
                DAEMON_START_TIMEOUT_S,
                "before inbox_sensor's first evaluation",
                daemon,
            )
            runs_before = {run.run_id for run in _sensor_runs(instance)}
            published_before = _published_build(workdir / "marts")
            landed_at, landed_epoch = time.perf_counter(), time.time()
            for held, inbox_file in moves:
                shutil.copyfile(held, inbox_file)
            landed_s = time.perf_counter() - landed_at

            def published() -> bool:
                for run in _sensor_runs(instance):
                    if run.run_id not in runs_before and run.status in (
                        dg.DagsterRunStatus.FAILURE,
                        dg.DagsterRunStatus.CANCELED,
                    ):
                        raise RuntimeError(f"the sensor's run {run.run_id} failed; see {log.name}")
                return _published_build(workdir / "marts") != published_before

            _wait(published, LATENCY_TIMEOUT_S, "before the day's marts were published", daemon)
            seconds = time.perf_counter() - landed_at
            (run,) = [run for run in _sensor_runs(instance) if run.run_id not in runs_before]
            _wait(
                lambda: instance.get_run_stats(run.run_id).end_time is not None,
                DAEMON_START_TIMEOUT_S,
                "before the sensor's run ended",
                daemon,
            )
            run_stats = instance.get_run_stats(run.run_id)
    finally:
        _stop(daemon)
        log.close()
    orders = [inbox_file for _, inbox_file in moves if inbox_file.name.startswith("orders_")]
    return {
        "latency_s": round(seconds, 2),
        "latency_copy_s": round(landed_s, 2),
        # from the run's own record: the sensor's tick, settling and the queue before the run
        # started, and the run itself (which ends a moment after it published the marts)
        "latency_before_run_s": round(run_stats.start_time - landed_epoch, 2),
        "latency_run_s": round(run_stats.end_time - run_stats.start_time, 2),
        "latency_exceptions": _exceptions_of(workdir / "marts", orders),
    }


def _exceptions_of(marts_dir: Path, order_files: list[Path]) -> int:
    """The published exceptions of the orders in the given order files."""
    published = settings.published_marts_dir(marts_dir)
    with duckdb.connect() as connection:
        (count,) = connection.execute(
            "select count(*) from read_parquet(?) where order_id in"
            " (select order_id from read_parquet(?))",
            [marts.source(published, "fct_order_exceptions"), [str(f) for f in order_files]],
        ).fetchone()
    return int(count)


def bench_size(orders: int, workdir: Path, days: int, merchants: int, seed: int) -> dict:
    """Every figure of one size; workdir is scratch space for its inputs and warehouse."""
    env = bench_environment(workdir)
    inbox, held = workdir / "inbox", workdir / "held_back"
    (workdir / "dagster_home").mkdir(parents=True, exist_ok=True)
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", workdir / "dagster_home" / "dagster.yaml")
    generated = measure(
        oex(
            "generate",
            "--orders",
            str(orders),
            "--days",
            str(days + HELD_BACK_DAYS),
            "--merchants",
            str(merchants),
            "--seed",
            str(seed),
            "--format",
            "parquet",
        ),
        env,
        workdir,
    )
    (daily_day, daily_moves), (latency_day, latency_moves) = hold_back_last_days(
        inbox, held, HELD_BACK_DAYS
    )
    print(
        f"[{orders:,}] generated in {generated.seconds} s; {daily_day} and {latency_day} held back"
    )
    # the dagster.yaml storage base_dir "." resolves against the current directory: each
    # run works in workdir, so its run storage and pool slots are its own
    parse_dbt_project(env)
    full = measure(oex("run"), env, workdir)
    full_steps = last_run_seconds(workdir / "dagster_home", full.seconds)
    print(f"[{orders:,}] full build {full.seconds} s, peak {full.peak_rss_mb} MB: {full_steps}")
    floor_s = reference_floor(inbox)  # the same files as the full build
    for held_file, inbox_file in daily_moves:
        shutil.move(held_file, inbox_file)
    day = daily_day.isoformat()
    incremental = measure(oex("run", "--from", day, "--to", day), env, workdir)
    incremental_steps = last_run_seconds(workdir / "dagster_home", incremental.seconds)
    print(f"[{orders:,}] incremental {incremental.seconds} s: {incremental_steps}")
    latency = inbox_to_marts_latency(workdir, env, latency_moves)
    print(f"[{orders:,}] file in the inbox to its exceptions in the marts: {latency}")
    # The peer reads every file, the held-back days' included, and is compared with the
    # warehouse after the last run, which has ingested them all too (compared a day earlier,
    # the handling log names exceptions whose evidence is in the next day's files).
    peer = measure(
        [
            sys.executable,
            "-m",
            "pipelines.benchmark",
            "peer",
            str(inbox),
            str(workdir / "peer_figures.parquet"),
        ],
        env,
        workdir,
    )
    ours = peer_figures_warehouse(workdir / "warehouse.duckdb")
    theirs = pd.read_parquet(workdir / "peer_figures.parquet")
    differences = figures_differences(ours, theirs)
    pages = page_query_seconds(workdir / "marts", env, workdir)
    return {
        "orders": orders,
        "days": days,
        "full_build_s": full.seconds,
        "full_build_steps_s": full_steps,
        "peak_rss_mb": full.peak_rss_mb,
        "incremental_s": incremental.seconds,
        "incremental_steps_s": incremental_steps,
        "incremental_peak_rss_mb": incremental.peak_rss_mb,
        "incremental_ratio": round(incremental.seconds / full.seconds, 4),
        "floor_s": floor_s,
        "build_vs_floor": round(full.seconds / floor_s, 1) if floor_s else None,
        "pandas_s": peer.seconds,
        "pandas_peak_rss_mb": peer.peak_rss_mb,
        "build_vs_pandas": round(full.seconds / peer.seconds, 2),
        "peer_figures_rows": len(ours),
        "peer_figures_match": not differences,
        "peer_figures_differences": differences[:20],
        "page_query_s": pages,
        **latency,
        "generate_s": generated.seconds,
    }


def daily_ratio(results: dict[str, dict], large: int = 10_000_000, small: int = 1_000_000):
    """The daily run at `large` orders over the daily run at `small` (None without both)."""
    if str(large) not in results or str(small) not in results:
        return None
    return round(results[str(large)]["incremental_s"] / results[str(small)]["incremental_s"], 2)


def scaling_exponent(results: dict[str, dict]) -> float | None:
    """log(full build time ratio) / log(size ratio) between the smallest and largest size."""
    if len(results) < 2:
        return None
    sizes = sorted(int(size) for size in results)
    small, large = results[str(sizes[0])], results[str(sizes[-1])]
    return round(
        math.log(large["full_build_s"] / small["full_build_s"]) / math.log(sizes[-1] / sizes[0]),
        3,
    )


def machine() -> dict:
    cpu_model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu_model": cpu_model,
    }


def format_table(report: dict) -> str:
    rows = [
        ("full build (s)", "full_build_s"),
        ("peak memory (MB)", "peak_rss_mb"),
        ("daily incremental (s)", "incremental_s"),
        ("file in the inbox to the marts (s)", "latency_s"),
        ("incremental / full", "incremental_ratio"),
        ("reference floor (s)", "floor_s"),
        ("full build / floor", "build_vs_floor"),
        ("pandas peer (s)", "pandas_s"),
        ("pandas peer memory (MB)", "pandas_peak_rss_mb"),
        ("full build / pandas", "build_vs_pandas"),
        ("same numbers as pandas", "peer_figures_match"),
    ]
    sizes = sorted(report["sizes"], key=int)
    lines = [
        "| measure | " + " | ".join(f"{int(s):,} orders" for s in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for label, key in rows:
        lines.append(
            f"| {label} | " + " | ".join(str(report["sizes"][s][key]) for s in sizes) + " |"
        )
    for run, key in (("full build", "full_build_steps_s"), ("daily run", "incremental_steps_s")):
        for part in report["sizes"][sizes[0]][key]:
            lines.append(
                f"| {run}: {part} (s) | "
                + " | ".join(str(report["sizes"][s][key][part]) for s in sizes)
                + " |"
            )
    pages = sorted({page for s in sizes for page in report["sizes"][s]["page_query_s"]})
    for page in pages:
        lines.append(
            f"| page {page} (s) | "
            + " | ".join(str(report["sizes"][s]["page_query_s"].get(page)) for s in sizes)
            + " |"
        )
    lines.append(f"\nscaling exponent: {report['scaling_exponent']}")
    lines.append(f"daily run 10M / 1M: {report['daily_ratio_10m_1m']}")
    lines.append(f"machine: {report['machine']}")
    return "\n".join(lines)


def run_benchmark(
    sizes: list[int],
    days: int = BENCH_DAYS,
    merchants: int = 8,
    seed: int = 1,
    scratch: Path | None = None,
    report_path: Path | None = None,
) -> dict:
    """Benchmark each size (orders); writes the report (default data/reports/bench.json)."""
    report: dict = {"machine": machine(), "sizes": {}}
    for orders in sizes:
        with tempfile.TemporaryDirectory(prefix=f"oex-bench-{orders}-", dir=scratch) as folder:
            report["sizes"][str(orders)] = bench_size(orders, Path(folder), days, merchants, seed)
        report["scaling_exponent"] = scaling_exponent(report["sizes"])
        report["daily_ratio_10m_1m"] = daily_ratio(report["sizes"])
        target = report_path or settings.reports_dir() / "bench.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(report, indent=2), encoding="utf-8")
    report.setdefault("scaling_exponent", None)
    report.setdefault("daily_ratio_10m_1m", None)
    print(format_table(report))
    return report


if __name__ == "__main__":
    # `python -m pipelines.benchmark peer INBOX OUT`: the pandas peer in its own process, so
    # its time and memory are measured like an analyst's script would be
    if len(sys.argv) == 4 and sys.argv[1] == "peer":
        peer_figures_pandas(Path(sys.argv[2])).to_parquet(sys.argv[3])
    else:
        raise SystemExit("usage: python -m pipelines.benchmark peer INBOX OUT")
