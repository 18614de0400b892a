"""`oex`: the one command line for users of order-exceptions.

Each sub-command is a thin wrapper: the work lives in the module it imports, so the
Dagster assets and the command line share one implementation.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import click

from pipelines import settings

# No telemetry leaves the machine, whichever way a command is started.
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_HOME", str(settings.PROJECT_ROOT / ".dagster_home"))
# A range run on SQLite storage otherwise records one "planned" event per day for every asset
# (the unpartitioned dbt assets too): 6,900 writes, about a minute, for a 91-day backfill.
# Dagster's own switch records one per asset; a failed range run then leaves its days
# "missing" rather than "failed" in the UI, and the failed run itself is still shown.
os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")


# Exit statuses a script can tell apart (click itself exits 2 on a usage error).
EXIT_FAILED = 1  # a run failed (a step, a blocking check) or an error a person can fix
EXIT_NOTHING_TO_EXPORT = 3  # a week without any merchant's data: no report written
EXIT_RUN_IN_PROGRESS = 4  # another `oex run` holds the warehouse: this one did nothing
USER_ERRORS = (FileNotFoundError, ValueError)


@contextmanager
def as_user_error():
    """Errors a user can cause (a bad week, an unknown merchant, no marts yet, a misspelt
    profile) as one line and a non-zero exit, not a traceback."""
    from pipelines.runner import UserError

    try:
        yield
    except (UserError, *USER_ERRORS) as error:
        raise click.ClickException(str(error)) from None


@contextmanager
def one_run_or_exit():
    """A run started while another holds the warehouse says so and exits with its status."""
    from pipelines.runner import RunInProgressError

    try:
        yield
    except RunInProgressError as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_RUN_IN_PROGRESS)


@click.group()
@click.version_option(package_name="order-exceptions", prog_name="oex")
def main() -> None:
    """order-exceptions: ingest order data, flag exceptions, review them weekly."""
    # Dagster marks a few parameters this project uses as beta; that is not the user's news.
    warnings.filterwarnings("ignore", module="dagster")
    # With the spark extra installed, Great Expectations imports PySpark, which warns about
    # pandas 3 on import; nothing here runs pandas through PySpark.
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )


# Defaults of `generate` that depend on --shape: each shape's own history and size.
SHAPE_DEFAULTS = {
    "china": {"days": 91, "end_date": "2026-11-15"},
    "marketplace": {"days": 730, "end_date": "2018-10-31"},
}


@main.command()
@click.option(
    "--shape",
    type=click.Choice(["china", "marketplace"]),
    default="china",
    show_default=True,
    help="china: a 3PL's daily files for all four domains (the contract's own layout). "
    "marketplace: a Brazilian marketplace export in the seven-file layout of the public Olist "
    "dataset, written to <inbox>/marketplace/ (15,000 orders is a good demonstration size).",
)
@click.option("--orders", default=100_000, show_default=True, help="Orders to generate.")
@click.option(
    "--days",
    type=int,
    default=None,
    help="Days of history, ending --end-date [default: 91; 730 for marketplace].",
)
@click.option(
    "--merchants",
    default=8,
    show_default=True,
    help="Merchants (the 3PL's clients); marketplace ignores it (one seller base).",
)
@click.option("--seed", default=1, show_default=True, help="Random seed; same seed, same bytes.")
@click.option(
    "--end-date",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Last day of the generated history, local time (Asia/Shanghai; America/Sao_Paulo for "
    "marketplace) [default: 2026-11-15; 2018-10-31 for marketplace].",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "parquet"]),
    default=None,
    help="File format of the inbox files [default: csv]; marketplace writes csv only.",
)
@click.option(
    "--bad-rows",
    type=float,
    default=None,
    help="Share of extra malformed rows, of the kinds real exports contain [default: 0]; "
    "china only.",
)
@click.option(
    "--inbox",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write the input files (default data/inbox).",
)
@click.option(
    "--truth",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write the ground truth (default data/truth).",
)
def generate(
    shape, orders, days, merchants, seed, end_date, file_format, bad_rows, inbox, truth
) -> None:
    """Write realistic sample input files into the inbox, and their ground truth."""
    defaults = SHAPE_DEFAULTS[shape]
    days = defaults["days"] if days is None else days
    end = (end_date or dt.datetime.strptime(defaults["end_date"], "%Y-%m-%d")).date()
    if shape == "marketplace":
        # The Olist layout is a fixed set of CSV files; malformed rows are the china shape's.
        if file_format not in (None, "csv"):
            raise click.UsageError(
                "--format parquet is not supported with --shape marketplace: the Olist layout "
                "is seven CSV files."
            )
        if bad_rows:
            raise click.UsageError(
                "--bad-rows is not supported with --shape marketplace; use --shape china."
            )
        from pipelines.generator.marketplace import generate_marketplace

        summary = generate_marketplace(
            orders=orders,
            days=days,
            seed=seed,
            end_date=end,
            inbox=inbox or settings.inbox_dir(),
            truth_dir=truth or settings.truth_dir(),
        )
        click.echo(summary)
        return

    from pipelines.generator import generate as run_generator

    summary = run_generator(
        orders=orders,
        days=days,
        merchants=merchants,
        seed=seed,
        end_date=end,
        file_format=file_format or "csv",
        bad_rows=0.0 if bad_rows is None else bad_rows,
        inbox=inbox or settings.inbox_dir(),
        truth_dir=truth or settings.truth_dir(),
    )
    click.echo(summary)


@main.command()
@click.option(
    "--from",
    "date_from",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="First day to ingest (default: the earliest file in the inbox).",
)
@click.option(
    "--to",
    "date_to",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Last day to ingest (default: the latest file in the inbox).",
)
@click.option(
    "--full-refresh",
    is_flag=True,
    default=False,
    help="Rebuild every incremental model from scratch instead of only the touched orders.",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    default=False,
    help="Also print Dagster's log of every event (always in the run's log file).",
)
def run(date_from, date_to, full_refresh, verbose) -> None:
    """Ingest the inbox for a range of days, run the checks, build dbt and export the marts.

    dbt builds on DuckDB, or on Apache Spark with OEX_ENGINE=spark (README, "Scaling out")."""
    from pipelines.runner import run_daily_build

    with as_user_error(), one_run_or_exit():
        ok = run_daily_build(
            date_from=date_from.date() if date_from else None,
            date_to=date_to.date() if date_to else None,
            full_refresh=full_refresh,
            verbose=verbose,
        )
    sys.exit(0 if ok else EXIT_FAILED)


@main.command("import-history")
@click.option("--verbose", "-v", is_flag=True, default=False, help="As for `oex run`.")
def import_history(verbose) -> None:
    """Load every file in the inbox at once, whatever the dates inside (years of history).

    A file is one delivery: it lands whole, in the partition of its delivery day, and each of
    its rows keeps its own time, so an export of two years fills two years of review weeks.
    Every incremental model is rebuilt (a full refresh)."""
    from pipelines.runner import data_span, run_daily_build

    with as_user_error(), one_run_or_exit():
        ok = run_daily_build(full_refresh=True, verbose=verbose)
    if ok:
        click.echo(data_span())
    sys.exit(0 if ok else EXIT_FAILED)


@main.command()
@click.option(
    "--truth",
    type=click.Path(path_type=Path),
    default=None,
    help="Ground truth folder (default data/truth; without one, only the risks are replayed).",
)
@click.option(
    "--ceiling",
    is_flag=True,
    help="Also replay the stock-out risk knowing the generator's true demand and arrivals "
    "(risk_ceiling.json): how far any model could go on this sample. Four replays: slower.",
)
def evaluate(truth, ceiling) -> None:
    """Compare flagged exceptions with the generator's ground truth (accuracy.json), and replay
    the late-delivery and stock-out risks on the last weeks (risk.json). On a real export (no
    truth) only the risks: their outcomes are the exceptions the warehouse itself flagged."""
    from pipelines.evaluation import evaluate as run_evaluation
    from pipelines.evaluation import has_truth
    from pipelines.risk.ceiling import stockout_ceiling
    from pipelines.risk.evaluation import WarehouseBusyError, evaluate_risk

    truth_dir = truth or settings.truth_dir()
    with as_user_error():
        if truth is None and not has_truth(truth_dir):
            click.echo(
                f"no generator truth in {truth_dir}: the flags' precision and recall "
                "(accuracy.json) are measured only on a sample written by `oex generate`; "
                "replaying the risks on this warehouse."
            )
        else:
            run_evaluation(truth_dir=truth_dir)
        try:
            evaluate_risk()
            if ceiling:
                stockout_ceiling(truth_dir=truth_dir)
        except WarehouseBusyError as error:
            raise click.ClickException(str(error)) from None


@main.command()
@click.option("--week", required=True, help="ISO week, e.g. 2026-W46.")
@click.option("--merchant", default=None, help="Only this merchant id.")
def export(week: str, merchant: str | None) -> None:
    """Write the merchants' weekly report files (XLSX and HTML). Exits 3 when no merchant has
    data in the week (nothing is written)."""
    from pipelines.defs.exports.reports import NothingToExportError, export_week

    try:
        with as_user_error():
            written = export_week(week=week, merchant_id=merchant)
    except NothingToExportError as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_NOTHING_TO_EXPORT)
    for path in written:
        click.echo(path)


@main.command()
@click.option(
    "--sizes",
    default="1000000,10000000",
    show_default=True,
    help="Comma-separated sizes in orders.",
)
@click.option("--days", default=91, show_default=True, help="Days of history per size.")
def bench(sizes: str, days: int) -> None:
    """Benchmark full and daily builds against the floor and a pandas peer (bench.json)."""
    from pipelines.benchmark import run_benchmark

    run_benchmark(
        [int(size.replace("_", "")) for size in sizes.split(",") if size.strip()], days=days
    )


@main.command()
@click.option("--port", default=8501, show_default=True)
@click.option(
    "--address",
    default="localhost",
    show_default=True,
    help="Interface to bind; localhost keeps the dashboard private to this machine.",
)
def dashboard(port: int, address: str) -> None:
    """Serve the weekly review dashboard from the exported marts."""
    app = settings.PROJECT_ROOT / "dashboards" / "streamlit_app.py"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]
    raise SystemExit(subprocess.call(command))


if __name__ == "__main__":
    main()
