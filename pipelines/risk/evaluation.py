"""`oex evaluate`, risk part: how the risk scores did on the last weeks, as known at the time.

Both risks are replayed on a time split: each moment scored sees only what had happened by
then (the features, and for the model, the verdicts it trains on); what happened after is
only used to grade it. Written to data/reports/risk.json.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.risk import delivery, metrics, stockout

STOCK_HORIZON_DAYS = 7  # "out of stock within 7 days"
SCORED_DAYS = 14  # the last two weeks whose outcomes are in


class WarehouseBusyError(RuntimeError):
    """A build holds the warehouse: the replay must wait for it."""


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not warehouse.exists():
        raise FileNotFoundError(f"{warehouse} does not exist: run `oex run` (or `make pipeline`).")
    try:
        # the replay joins every open order at every moment: a scorer's memory, not a
        # scanner's (with the reader's 1 GB, a 10M-order warehouse ran out of memory)
        connection = duckdb.connect(str(warehouse), read_only=True, config=settings.duckdb_config())
    except duckdb.IOException as error:
        raise WarehouseBusyError(
            f"{warehouse} is held by a running build; evaluate once it has finished."
        ) from error
    connection.execute("set enable_progress_bar = false")  # a session option
    return connection


def stock_days(connection: duckdb.DuckDBPyConnection) -> list:
    """The days scored for stock-outs: SCORED_DAYS days ending STOCK_HORIZON_DAYS before the
    data ends, so each has its seven days of outcome."""
    (end,) = connection.execute("select as_of from intermediate.int_run_as_of").fetchone()
    last = end - timedelta(days=STOCK_HORIZON_DAYS)
    return [last - timedelta(days=offset) for offset in range(SCORED_DAYS - 1, -1, -1)]


def evaluate_risk(warehouse: Path | None = None, reports_dir: Path | None = None) -> dict:
    """Replay both risks on the last weeks and write risk.json."""

    def replay(connection) -> dict:
        return {
            "late_delivery": _or_not_enough_history(lambda: delivery.backtest(connection)),
            "stock_out": _or_not_enough_history(
                lambda: stockout.backtest_stockout(connection, stock_days(connection))
            ),
        }

    return write_replay(settings.RISK_REPORT, replay, format_summary, warehouse, reports_dir)


def write_replay(file_name: str, replay, summary, warehouse=None, reports_dir=None) -> dict:
    """`replay(connection)` on a read-only connection to the warehouse, its report written to
    the reports folder as `file_name` and `summary(report)` printed."""
    connection = connect(warehouse or settings.warehouse_path())
    try:
        report = replay(connection)
    finally:
        connection.close()
    reports_dir = reports_dir or settings.reports_dir()
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / file_name
    path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(summary(report))
    print(f"written: {path}")
    return report


def _or_not_enough_history(replay) -> dict:
    """The replay's figures, or why there are none (a sample shorter than the replay needs is
    not an error of the evaluation)."""
    try:
        return replay()
    except metrics.NotScoredError as error:
        return error.as_report()
    except ValueError as error:
        return {"not_enough_history": str(error)}


def figure(value, digits: int = 3) -> str:
    """A share or a count for the summaries: "-" when there is none."""
    return "-" if value is None else f"{value:.{digits}f}"


def format_summary(report: dict) -> str:
    late = report["late_delivery"]
    stock = report["stock_out"]
    lines = []
    if "not_enough_history" in late:
        lines.append(f"late delivery: not scored: {late['not_enough_history']}")
    else:
        lines += _late_lines(late)
    if "not_enough_history" in stock:
        lines.append(f"stock-out: not scored: {stock['not_enough_history']}")
    else:
        lines.append(
            f"stock-out within 7 days: precision {figure(stock['precision'])}, recall "
            f"{figure(stock['recall'])}, median lead time "
            f"{figure(stock.get('median_lead_time_hours'), 1)} h; probabilities sum to "
            f"{figure(stock.get('expected_went_out'), 1)} for {stock['went_out']} that went out"
        )
        points = frontier_cells(stock.get("frontier", {}))
        lines.append("  flagged from another chance: " + ", ".join(points))
    return "\n".join(lines)


def frontier_cells(frontier: dict, with_threshold: bool = True) -> list[str]:
    """Each threshold's "precision / recall" of a stock-out replay's frontier."""
    return [
        (f"{float(threshold):.0%} " if with_threshold else "")
        + f"{figure(point['precision'])} / {figure(point['recall'])}"
        for threshold, point in frontier.items()
    ]


def _late_lines(late: dict) -> list[str]:
    lines = [f"{'late delivery':16} {'roc_auc':>8} {'top 5%':>8} {'brier':>8} {'calib.':>8}"]
    for name in ("model", "baseline"):
        row = late[name]
        lines.append(
            f"  {name:14} {figure(row['roc_auc']):>8} {figure(row['precision_at_top_5pct']):>8}"
            f" {figure(row['brier'], 4):>8} {figure(row['calibration_error'], 4):>8}"
        )
    lines.append(
        f"  median lead time {figure(late['median_lead_time_hours'], 1)} h "
        f"({late['flagged_before']} of {late['late_orders']} late orders flagged before)"
    )
    return lines
