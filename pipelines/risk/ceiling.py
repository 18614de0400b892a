"""How far the stock-out flag could go on a generated sample: `oex evaluate --ceiling`.

The replay of `oex evaluate` (the same days, the same verdicts) is run again with what no
model can know, read from the generator's truth: each item's expected units per day (the
merchant's plan, the promotion included: truth/demand.parquet) in place of the forecast, and
each replenishment's actual arrival (truth/replenishments.parquet) in place of the arrival
scenarios; once with each, once with both. Only the counts, the orders and the Poisson chance
of the orders still to come stay as the model has them.

What it is for: telling a weak model from a hard problem. If even "both" cannot reach a
precision and recall at some threshold, no forecast and no purchase-order model can; what is
left is the chance of a slow seller's next few orders. Written to data/reports/
risk_ceiling.json, with the precision and recall at each threshold of stockout.FRONTIER.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines import settings
from pipelines.risk import evaluation, stockout

ITEM = stockout.ITEM
# An item with no replenishment after the count: none within any horizon.
NO_ARRIVAL_DAYS = 10.0 * stockout.HORIZON_DAYS
VARIANTS = {
    "as it scores": (False, False),
    "knowing the true demand": (True, False),
    "knowing each arrival": (False, True),
    "knowing both": (True, True),
}


@dataclass
class Foresight:
    """What happened, handed to the scoring in place of what the model estimates."""

    planned_demand: pd.DataFrame | None  # day (local), warehouse_id, sku, expected_units
    arrivals_local: pd.DataFrame | None  # warehouse_id, sku, arrives (naive local time)

    def demand(self, items, local_now: datetime, forecast: np.ndarray, elapsed: float):
        """(item, day) units from today on, as the plan expected them; past the plan's last
        day, the forecast's."""
        if self.planned_demand is None:
            return forecast
        days = [local_now.date() + timedelta(days=offset) for offset in range(forecast.shape[1])]
        planned = self.planned_demand
        table = (
            planned[planned.day.isin(days)]
            .pivot_table(index=ITEM, columns="day", values="expected_units", aggfunc="sum")
            .reindex(columns=days)
            .reindex(pd.MultiIndex.from_frame(items[ITEM]))
            .to_numpy(float, na_value=0.0)
        )
        table[:, 0] *= 1.0 - elapsed
        in_plan = np.isin(np.array(days, dtype=object), planned.day.unique())
        return np.where(in_plan[None, :], table, forecast)

    def arrivals(self, items, local_now: datetime, arrivals: np.ndarray, weights: np.ndarray):
        """One certain scenario: the first replenishment received after the latest count
        (00:00 today), in days from the as-of (0 when it came in since the count)."""
        if self.arrivals_local is None:
            return arrivals, weights
        counted = datetime.combine(local_now.date(), time())
        after = self.arrivals_local[self.arrivals_local.arrives >= counted]
        first = after.groupby(ITEM, as_index=False).arrives.min()
        merged = items[ITEM].merge(first, on=ITEM, how="left")
        days = (merged.arrives - pd.Timestamp(local_now)) / pd.Timedelta(days=1)
        days = np.maximum(days.to_numpy(float, na_value=NO_ARRIVAL_DAYS), 0.0)
        return days[:, None], np.ones((len(items), 1))


def read_foresight(truth_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The generator's plan and arrivals; arrival times in the reporting time zone."""
    missing = [
        name
        for name in ("demand.parquet", "replenishments.parquet")
        if not (truth_dir / name).exists()
    ]
    if missing:
        raise FileNotFoundError(
            f"{truth_dir} has no {', '.join(missing)}: the ceiling needs a sample written by "
            "`oex generate` (--shape china)"
        )
    planned = pd.read_parquet(truth_dir / "demand.parquet")
    planned["day"] = pd.to_datetime(planned.day).dt.date
    arrivals = pd.read_parquet(truth_dir / "replenishments.parquet")
    arrives = pd.to_datetime(arrivals.arrives_at).dt.tz_localize("UTC")
    zone = settings.reporting_timezone()
    arrivals["arrives"] = arrives.dt.tz_convert(zone).dt.tz_localize(None)
    return planned, arrivals[[*ITEM, "arrives"]]


def stockout_ceiling(
    warehouse: Path | None = None, truth_dir: Path | None = None, reports_dir: Path | None = None
) -> dict:
    """Replay the stock-out risk four ways (VARIANTS), print them and write risk_ceiling.json."""
    truth_dir = truth_dir or settings.truth_dir()
    return evaluation.write_replay(
        "risk_ceiling.json",
        lambda connection: replay_ceiling(connection, truth_dir),
        format_ceiling,
        warehouse,
        reports_dir,
    )


def replay_ceiling(connection, truth_dir: Path, days: list | None = None) -> dict:
    """The replay of `oex evaluate` (its days, unless `days` says others), once per variant of
    what is known."""
    planned, arrivals = read_foresight(truth_dir)
    days = days or evaluation.stock_days(connection)
    report = {}
    for name, (knows_demand, knows_arrivals) in VARIANTS.items():
        foresight = Foresight(
            planned if knows_demand else None, arrivals if knows_arrivals else None
        )
        report[name] = stockout.backtest_stockout(connection, days, foresight)
    return report


def format_ceiling(report: dict) -> str:
    thresholds = list(next(iter(report.values()))["frontier"])
    lines = [
        "stock-out within 7 days, precision / recall flagged from "
        + ", ".join(f"{float(threshold):.0%}" for threshold in thresholds)
    ]
    for name, replay in report.items():
        cells = evaluation.frontier_cells(replay["frontier"], with_threshold=False)
        lines.append(f"  {name:<26}" + "   ".join(cells))
    return "\n".join(lines)
