"""Stock-out risk: which (warehouse, SKU) will run out before a replenishment can arrive.

For each item, as known at a moment (the "as of", UTC):

- demand: a seasonal model of each warehouse's daily units (Holt-Winters exponential
  smoothing from statsmodels: damped additive trend, multiplicative weekly season), fitted on
  the last HISTORY_DAYS complete days, split over the warehouse's SKUs by each one's share of
  the last SHARE_DAYS days (top-down: one SKU sells too few units a day to show a weekly
  rhythm of its own, its warehouse does). A promotion day in the history is a one-off, not
  the new level: days above PROMOTION_CAP times the window's median count as the median.
- available: the latest snapshot counted by the as-of day (00:00 local), less the units
  ordered since that count.
- days of cover: when the forecast demand from the as-of on uses up what is available, in
  days of the clock (an as-of at 23:59 has a minute of today left, not a day).
- lead time: seed replenishment_lead_times, the warehouse's default row or the SKU's own.
- the next replenishment, from the open purchase orders when the counts carry them
  (in_transit_qty, expected_arrival_date: what the ERP showed at the count): the earliest
  one's planned day, late by each lateness the orders received in the history came in with,
  as often as they did (most on time, some days late; one already overdue only as late as it
  still can be); nothing on order: planned a lead time after the night the forecast brings
  the item to the position (available plus on order) it was seen reordering at. Without
  them (replenishment_basis inferred_from_counts), the counts' rhythm: a replenishment
  arrived where the next morning's count exceeds this morning's less the day's orders, and
  the level the item stood at a lead time before each arrival is the level its merchant
  reorders at. Once the running cycle has fallen to that level, its
  replenishment is due a lead time after that night; before, a lead time after the forecast
  brings it there; with no arrival seen yet, a lead time after tonight.
- stock-out probability: that an order finds too little stock before the replenishment is
  in, within the horizon (HORIZON_DAYS), over those arrivals. Orders come as a Poisson process
  at the forecast's pace, each asking for units as the recent lines did (a compound Poisson,
  computed exactly by Panjer's recursion): two units left for a seller of one a day run out
  within three days with a probability, not surely.
- at risk: that probability is at least FLAG_PROBABILITY and the cover ends within the
  horizon. The threshold is below one half on purpose: an order turned away costs a sale and
  a complaint, a needless check of a purchase order a few minutes of a planner's time.

Only what was known at the as-of is read: snapshots counted by then, lines of orders placed
before it, events before it. The fit is deterministic (no random draw anywhere), so the same
as-of gives the same scores whatever was loaded later.

What it cannot see: without purchase orders, a replenishment that comes off the item's rhythm
(an extra order, one arriving late, one received during the as-of day, before the next
count); with them, which open order will be late (only how often orders were late and by
how much); a slow seller's next few orders (the probability says how unsure that is); and
a promotion ahead (the model knows no calendar), so demand before a peak is underestimated.
"""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd

from pipelines import settings
from pipelines.risk import metrics

HORIZON_DAYS = 7
HISTORY_DAYS = 56
SHARE_DAYS = 28
SEASON_DAYS = 7
PROMOTION_CAP = 1.5
# A replenishment is received during the working day (about 09:00-17:00): due at midday.
ARRIVAL_CLOCK = 0.5
# An overdue purchase order later than any received before: expected within this many days.
OVERDUE_WAIT_DAYS = 1.0
# Flagged from this chance of a stock-out before the replenishment is in (see the module's
# doc). Chosen on the seed-1 sample; the README gives the precision and recall it trades.
FLAG_PROBABILITY = 0.3
FRONTIER = (0.3, 0.5, 0.7)  # the replay also reports these thresholds' precision and recall
# Up to this many orders expected in a window, the units' distribution is computed exactly.
PANJER_MAX_ORDERS = 200
OPEN_ORDER_DAYS = 30  # an order still unallocated after this long is not waiting for stock
# An item's exception this long after its previous one is a new run-out, not the same one.
NEW_STOCKOUT_GAP = timedelta(hours=72)
MODEL_VERSION = (
    f"topdown-holtwinters-v3(trend=add damped, season=mul {SEASON_DAYS}d, "
    f"history={HISTORY_DAYS}d, days over {PROMOTION_CAP:g}x median as median, "
    f"sku share={SHARE_DAYS}d, next replenishment=open purchase orders x lateness seen, "
    f"else reorder level=median of arrivals seen, compound Poisson orders, "
    f"flag at p>={FLAG_PROBABILITY:g}, horizon={HORIZON_DAYS}d)"
)
ITEM = ["warehouse_id", "sku"]
# rpt_stockout_risk, column by column with its type: the mart is created from this even when
# it is empty
MART_COLUMNS = {
    "warehouse_id": "varchar",
    "sku": "varchar",
    "merchant_id": "varchar",
    "merchant_name": "varchar",
    "available": "double",
    "forecast_daily_demand": "double",
    "days_of_cover": "double",
    "lead_time_days": "integer",
    "expected_stockout_date": "date",
    # units on open purchase orders at the latest count; null when the export carries none
    "in_transit_qty": "double",
    # when the next replenishment is expected in, and from what: the export's open purchase
    # orders (purchase_orders) or, without them, the counts' rhythm (inferred_from_counts)
    "expected_replenishment_date": "date",
    "replenishment_basis": "varchar",
    # that an order finds no stock before the next replenishment is in, within the horizon
    "stockout_probability": "double",
    "is_at_risk": "boolean",
    "open_orders": "bigint",
    "expected_orders": "double",
    "expected_impact": "double",
    "suggested_action_zh": "varchar",
    "suggested_action_en": "varchar",
    "owner_team": "varchar",
    "model_version": "varchar",
    "features_as_of": "timestamp",
}
COLUMNS = list(MART_COLUMNS)
TABLES = (
    "stg_orders__orders",
    "stg_orders__order_lines",
    "stg_orders__order_events",
    "stg_stock__stock_snapshots",
    "stg_stock__skus",
    "replenishment_lead_times",
    "exception_catalogue",
    "int_exception__out_of_stock",
)
# Where dbt builds each layer; a table found elsewhere (another target's schema names) is
# taken from whichever schema holds it.
PREFERRED_SCHEMAS = ("staging", "intermediate", "reference", "marts")


def stockout_risk(connection: duckdb.DuckDBPyConnection, as_of: datetime | date) -> pd.DataFrame:
    """Every (warehouse, SKU) counted by `as_of`, with its cover, lead time and risk, most
    urgent first.

    expected_orders: orders expected from the as-of until the next replenishment arrives (see
    the module's doc). expected_impact: of those, the orders expected to find no stock (units
    already owed included), over the probable arrivals and demands: orders x probability.
    """
    tables = find_tables(connection)
    moment = utc_moment(as_of)
    static = _StaticInputs.read(connection, tables)
    return _score(connection, tables, static, moment)


def backtest_stockout(
    connection: duckdb.DuckDBPyConnection, as_of_days: list[datetime | date], foresight=None
) -> dict:
    """Replay the risk at each as-of, as known then, against the out_of_stock exceptions of
    the HORIZON_DAYS after it.

    A pair (as-of, item) is predicted positive when the item is at risk; it is positive when
    an out_of_stock exception of that SKU from that warehouse is detected within the horizon.
    Lead time: for each run-out in the scored span (an item's first exception after 72 h
    without one), the hours from the first as-of that flagged it (within the horizon before)
    to the exception. `foresight`: see _score.
    """
    tables = find_tables(connection)
    static = _StaticInputs.read(connection, tables)
    moments = sorted({utc_moment(day) for day in as_of_days})
    flags = pd.concat(
        [_score(connection, tables, static, moment, foresight) for moment in moments],
        ignore_index=True,
    )
    if flags.empty:
        raise metrics.NotScoredError(
            "no_stock_count",
            f"no stock count by {moments[-1]:%Y-%m-%d %H:%M} UTC: the stock-out risk needs the "
            "daily stock snapshots of a WMS export",
            by=moments[-1].isoformat(sep=" "),
        )
    exceptions = _out_of_stock_exceptions(connection, tables)
    pairs = _label(flags, exceptions)
    return _measure(pairs, flags, exceptions, moments)


def utc_moment(as_of: datetime | date) -> datetime:
    """A naive UTC datetime; a date means its 00:00 in the reporting time zone."""
    if isinstance(as_of, datetime):
        if as_of.tzinfo is not None:
            return as_of.astimezone(UTC).replace(tzinfo=None)
        return as_of
    local = datetime.combine(as_of, time(), ZoneInfo(settings.reporting_timezone()))
    return local.astimezone(UTC).replace(tzinfo=None)


def find_tables(connection: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each table this module reads, qualified by the schema that holds it."""
    rows = connection.execute(
        "select table_name, table_schema from information_schema.tables "
        "where table_name in (select unnest($names::varchar[]))",
        {"names": list(TABLES)},
    ).fetchall()
    found: dict[str, str] = {}
    for name, schema in sorted(rows, key=lambda row: _schema_rank(row[1])):
        found.setdefault(name, f'"{schema}"."{name}"')
    missing = sorted(set(TABLES) - set(found))
    if missing:
        raise LookupError(f"the warehouse has no {', '.join(missing)}: run `oex run` first")
    return found


def _schema_rank(schema: str) -> int:
    return PREFERRED_SCHEMAS.index(schema) if schema in PREFERRED_SCHEMAS else len(TABLES)


class _StaticInputs:
    """The seeds: lead times and the catalogue's out_of_stock row (configuration, not events)."""

    def __init__(self, lead_times: pd.DataFrame, action: dict[str, str]):
        self.lead_times = lead_times
        self.action = action

    @classmethod
    def read(cls, connection, tables: dict[str, str]) -> _StaticInputs:
        lead_times = connection.execute(
            f"select trim(warehouse_id) as warehouse_id, nullif(trim(sku), '') as sku, "
            f"lead_time_days from {tables['replenishment_lead_times']}"
        ).df()
        row = connection.execute(
            f"select action_zh, action_en, owner_team from {tables['exception_catalogue']} "
            "where exception_type = 'out_of_stock'"
        ).fetchone()
        action = dict(
            zip(("action_zh", "action_en", "owner_team"), row or (None,) * 3, strict=True)
        )
        return cls(lead_times, action)

    def lead_time_of(self, items: pd.DataFrame) -> pd.Series:
        """The SKU's own row, else its warehouse's default; None when the seed has neither."""
        by_sku = self.lead_times.dropna(subset=["sku"])
        default = self.lead_times[self.lead_times.sku.isna()][["warehouse_id", "lead_time_days"]]
        merged = (
            items[ITEM]
            .merge(by_sku, on=ITEM, how="left")
            .merge(default, on="warehouse_id", how="left", suffixes=("", "_default"))
        )
        return merged.lead_time_days.fillna(merged.lead_time_days_default).to_numpy()


def _local(moment: datetime) -> datetime:
    zone = ZoneInfo(settings.reporting_timezone())
    return moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def _utc_of_local(local: datetime) -> datetime:
    zone = ZoneInfo(settings.reporting_timezone())
    return local.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def _score(
    connection, tables, static: _StaticInputs, moment: datetime, foresight=None
) -> pd.DataFrame:
    """The risk of every item counted, as known at `moment`. `foresight` (pipelines/risk/
    ceiling.py only) replaces the forecast and the arrival scenarios with what happened."""
    local_now = _local(moment)
    today = local_now.date()
    items = _stock_at(connection, tables, moment, today)
    daily = _daily_units(connection, tables, moment, today)
    warehouse_forecast = {
        warehouse: forecast_units(series, HORIZON_DAYS + _longest(static.lead_times) + 1)
        for warehouse, series in _warehouse_series(daily, today).items()
    }
    elapsed = _share_of_day_elapsed(connection, tables, moment, local_now)
    items = items.merge(_sku_shares(daily, today), on=ITEM, how="left")
    items["share"] = items.share.fillna(0.0)
    items["orders_per_unit"] = items.orders_per_unit.fillna(_overall_orders_per_unit(daily))
    items["lead_time_days"] = static.lead_time_of(items)
    demand = _item_forecast(items, warehouse_forecast, elapsed)
    if foresight is not None:
        demand = foresight.demand(items, local_now, demand, elapsed)
    available = items.available.to_numpy(float)
    today_left = 1.0 - _clock(local_now)
    cover = _days_of_cover(available, demand, today_left)
    lead = items.lead_time_days.fillna(HORIZON_DAYS).to_numpy(float)
    rhythm = _replenishment_rhythm(connection, tables, items, daily, today)
    on_order = items.in_transit_qty.to_numpy(float, na_value=np.nan)
    arrival = pd.to_datetime(items.expected_arrival_date)
    arrival_in_days = ((arrival - pd.Timestamp(today)) / pd.Timedelta(days=1)).to_numpy(
        float, na_value=np.nan
    )
    # an export without the columns, or with units on order and no planned day: inferred
    from_orders = (on_order == 0) | ((on_order > 0) & ~np.isnan(arrival_in_days))
    arrivals, weights = _purchase_order_arrivals(
        rhythm, on_order, arrival_in_days, available, demand, lead, local_now
    )
    inferred = _days_until_replenishment(rhythm, available, demand, lead, local_now)
    arrivals = np.where(from_orders[:, None], arrivals, inferred[:, None])
    # inferred: one arrival, certain (all the weight on the first scenario)
    weights = np.where(from_orders[:, None], weights, np.eye(1, weights.shape[1]))
    if foresight is not None:
        arrivals, weights = foresight.arrivals(items, local_now, arrivals, weights)
    until_stock = (arrivals * weights).sum(axis=1)
    chance, units_short = _stockout_chance(
        available,
        demand,
        arrivals,
        weights,
        today_left,
        _line_quantities(connection, tables, moment),
    )
    expected_units = _demand_within(demand, until_stock, today_left)
    items["forecast_daily_demand"] = demand[:, 1 : HORIZON_DAYS + 1].mean(axis=1)
    items["days_of_cover"] = cover
    items["expected_stockout_date"] = _dates_after(local_now, cover)
    items["in_transit_qty"] = items.in_transit_qty.astype(float)
    items["expected_replenishment_date"] = _dates_after(local_now, until_stock)
    items["replenishment_basis"] = np.where(from_orders, "purchase_orders", "inferred_from_counts")
    items["open_orders"] = _open_orders(connection, tables, moment, items)
    items["expected_orders"] = expected_units * items.orders_per_unit
    items["stockout_probability"] = chance
    items["expected_impact"] = units_short * items.orders_per_unit
    items["is_at_risk"] = (chance >= FLAG_PROBABILITY) & (cover <= HORIZON_DAYS)
    items["suggested_action_zh"] = static.action["action_zh"]
    items["suggested_action_en"] = static.action["action_en"]
    items["owner_team"] = static.action["owner_team"]
    items["model_version"] = MODEL_VERSION
    items["features_as_of"] = pd.Timestamp(moment)
    items = items.sort_values(
        ["is_at_risk", "expected_impact", "days_of_cover", "warehouse_id", "sku"],
        ascending=[False, False, True, True, True],
        kind="stable",
        na_position="last",
    )
    return items[COLUMNS].reset_index(drop=True)


SNAPSHOT_HISTORY = """
select warehouse_id, sku, snapshot_date, available, in_transit_qty, expected_arrival_date
from {snapshots}
where snapshot_date between $first and $today
"""


def _replenishment_rhythm(connection, tables, items, daily, today: date) -> dict:
    """What each item's counts say about how it is replenished: a replenishment arrived on a
    day the next morning's count exceeds this morning's less the day's orders. The level the
    merchant reorders at is the item's level on the night a lead time before such an arrival
    (the median over the arrivals seen); the reorder of the running cycle is the first night
    since the last arrival that ended at or below that level.

    Where the counts carry what is on order (in_transit_qty), the reorders are seen instead of
    guessed: a night ordered when what is on order grew by more than the day's receipts took
    off it, and the level the merchant reorders at is the position (available plus on order)
    that night ended at. And the open orders' planned days against the days they were
    received say how late an overdue one tends to be (`lateness`, days, over every item)."""
    days = pd.date_range(today - timedelta(days=HISTORY_DAYS), today, freq="D").date
    counts = connection.execute(
        SNAPSHOT_HISTORY.format(snapshots=tables["stg_stock__stock_snapshots"]),
        {"first": days[0], "today": today},
    ).df()
    counts["snapshot_date"] = pd.to_datetime(counts.snapshot_date).dt.date
    morning = _matrix(counts, items, days, "snapshot_date", "available", np.nan)
    taken = _matrix(daily, items, days, "day", "units", 0.0)
    brought = morning[:, 1:] - morning[:, :-1] + taken[:, :-1]  # per complete day
    arrived = np.nan_to_num(brought, nan=0.0) > 0
    lead = items.lead_time_days.fillna(HORIZON_DAYS).to_numpy(int)
    reorder_level = np.full(len(items), np.nan)
    last_arrival = np.full(len(items), -1)
    for row, arrival_days in enumerate(arrived):
        seen = np.flatnonzero(arrival_days)
        if not len(seen):
            continue
        last_arrival[row] = seen[-1]
        ordered = seen[seen - lead[row] >= 0] - lead[row]
        if len(ordered):
            reorder_level[row] = np.nanmedian(morning[row, ordered + 1])
    night_level = morning[:, 1:]  # the level each complete day ended at
    since = np.arange(len(days) - 1)[None, :] > last_arrival[:, None]
    below = since & (night_level <= reorder_level[:, None])
    reordered = np.where(below.any(axis=1), below.argmax(axis=1), -1)
    on_order = _matrix(counts, items, days, "snapshot_date", "in_transit_qty", np.nan)
    placed = np.nan_to_num(on_order[:, 1:] - on_order[:, :-1] + brought, nan=0.0) > 0
    position = morning[:, :-1] - taken[:, :-1] + on_order[:, :-1]  # each night, before review
    order_level = np.full(len(items), np.nan)
    for row in np.flatnonzero(placed.any(axis=1)):
        order_level[row] = np.nanmedian(position[row, placed[row]])
    return {
        "reorder_level": reorder_level,
        # days before today of the night that reordered (0: tonight), -1 if none yet
        "reordered_days_ago": np.where(reordered >= 0, len(days) - 1 - reordered, -1),
        "order_level": order_level,
        "lateness": _lateness(counts, today),
    }


def _lateness(counts: pd.DataFrame, today: date) -> np.ndarray:
    """Days each purchase order received by today came in after its planned day (0: on time):
    an order is open on the mornings its planned day shows, and was received during the last
    of them."""
    open_orders = counts.dropna(subset=["expected_arrival_date"])
    if open_orders.empty:
        return np.zeros(0)
    planned = pd.to_datetime(open_orders.expected_arrival_date).dt.date
    last_open = open_orders.groupby([*ITEM, planned]).snapshot_date.max()
    received = last_open[last_open < today]
    planned_day = pd.to_datetime(received.index.get_level_values(-1))
    return np.maximum((pd.to_datetime(received.to_numpy()) - planned_day).days.to_numpy(), 0)


def _matrix(frame, items, days, day_column, value_column, missing) -> np.ndarray:
    """(item, day) values of a long frame, in the order of `items` and `days`."""
    table = frame.pivot_table(
        index=ITEM, columns=day_column, values=value_column, aggfunc="sum"
    ).reindex(columns=list(days))
    table = table.reindex(pd.MultiIndex.from_frame(items[ITEM]))
    return table.to_numpy(float, na_value=missing)


def _days_until_replenishment(rhythm, available, demand, lead, local_now: datetime) -> np.ndarray:
    """Days from the as-of until the next replenishment is in: the one the running cycle
    ordered (a lead time after that night, about midday), else one ordered when the forecast
    brings the item to its reorder level, else one ordered tonight. One that should have been
    counted already and was not is late, and when it comes nobody knows: as if ordered now."""
    clock = _clock(local_now)
    level = rhythm["reorder_level"]
    days_ago = rhythm["reordered_days_ago"]
    known = ~np.isnan(level)
    ordered = known & ((days_ago >= 0) | (available <= level))
    # ordered on the night `days_ago` days before today (0: tonight), due at midday
    running = np.where(days_ago >= 0, lead + 0.5 - days_ago - clock, lead + 1.5 - clock)
    # due before the last count and not in it: late
    running = np.where(running < -0.5, lead, np.maximum(running, 0.0))
    reach_level = _days_of_cover(np.where(known, available - level, 0.0), demand, 1 - clock)
    later = np.nan_to_num(reach_level, nan=HORIZON_DAYS * 4) + lead + 0.5
    return np.where(ordered, running, np.where(known, later, lead))


def _purchase_order_arrivals(
    rhythm, on_order, arrival_in_days, available, demand, lead, local_now: datetime
) -> tuple[np.ndarray, np.ndarray]:
    """When the next replenishment may be in, from the open purchase orders the latest count
    showed: (item, scenario) days from the as-of, and each scenario's probability.

    Its planned day, about midday (ARRIVAL_CLOCK), late by each lateness the orders received
    in the history came in with, as often as they did (on time, or days late). One
    the count still shows open is not in before the count: only the latenesses that bring it
    on or after the count's day are left, and one later than any seen before is expected
    within OVERDUE_WAIT_DAYS. Nothing on order: the next is ordered the night the forecast
    brings the position (available, nothing on order) to the level the item was seen
    reordering at, and is planned a lead time after; with no reorder seen, ordered tonight."""
    clock = _clock(local_now)
    lateness, frequency = np.unique(rhythm["lateness"], return_counts=True)
    if not len(lateness):
        lateness, frequency = np.zeros(1), np.ones(1)
    level = rhythm["order_level"]
    known = ~np.isnan(level)
    reach_level = _days_of_cover(np.where(known, available - level, 0.0), demand, 1 - clock)
    reach_level = np.nan_to_num(np.where(known, reach_level, 0.0), nan=HORIZON_DAYS * 4)
    # ordered the night of the day it gets there, in a lead time after
    order_night = np.floor(reach_level + clock)
    planned_in_days = np.where(on_order > 0, arrival_in_days, order_night + lead)
    overdue = np.where(on_order > 0, np.maximum(-np.nan_to_num(arrival_in_days), 0), 0)
    possible = lateness[None, :] >= overdue[:, None]
    weights = np.where(possible, frequency[None, :], 0).astype(float)
    arrivals = planned_in_days[:, None] + lateness[None, :] + ARRIVAL_CLOCK - clock
    # later than any order seen: expected within OVERDUE_WAIT_DAYS
    unseen = weights.sum(axis=1) == 0
    weights[unseen, 0] = 1.0
    arrivals[unseen, 0] = OVERDUE_WAIT_DAYS
    return np.maximum(arrivals, 0.0), weights / weights.sum(axis=1, keepdims=True)


def _stockout_chance(
    available, demand, arrivals, weights, today_left: float, quantities: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per item: the probability that an order finds too little stock before the next
    replenishment is in and within the horizon, and the units expected short by then (units
    already owed included), over the arrival scenarios.

    Orders come as a Poisson process at the forecast's pace, each asking for a quantity drawn
    from the recent lines' quantities: a slow seller with two units left and three days to
    wait runs out less surely than its forecast says."""
    chance = np.zeros(len(available))
    short = np.zeros(len(available))
    for scenario in range(arrivals.shape[1]):
        window = np.minimum(arrivals[:, scenario], HORIZON_DAYS)
        units = _demand_within(demand, window, today_left)
        scenario_chance, scenario_short = _compound_poisson_tail(available, units, quantities)
        chance += weights[:, scenario] * scenario_chance
        short += weights[:, scenario] * scenario_short
    return chance, short


def _compound_poisson_tail(
    available: np.ndarray, mean_units: np.ndarray, quantities: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """P(S > available) and E[max(S - available, 0)] for S the units of a Poisson number of
    orders whose quantities follow `quantities` (probability of 1, 2, ... units), with mean
    `mean_units`. Exact (Panjer's recursion) where the count is small; the normal
    approximation where it is large, or the stock far beyond reach."""
    from scipy.stats import norm

    sizes = np.arange(1, len(quantities) + 1)
    mean_q, second_q = float(sizes @ quantities), float(sizes**2 @ quantities)
    rate = mean_units / mean_q
    sd = np.sqrt(rate * second_q)
    stock = np.floor(available)
    z = (stock + 0.5 - mean_units) / np.maximum(sd, 1e-9)
    chance = np.where(sd > 0, norm.sf(z), (mean_units > stock).astype(float))
    short = np.where(
        sd > 0,
        sd * norm.pdf(z) + (mean_units - stock) * norm.sf(z),
        np.maximum(mean_units - stock, 0.0),
    )
    exact = (rate <= PANJER_MAX_ORDERS) & (stock < mean_units + 10 * sd + 1)
    owed = exact & (stock < 0)  # any order is short, and what is owed stays short
    chance[owed] = -np.expm1(-rate[owed])
    short[owed] = mean_units[owed] - stock[owed]
    rows = np.flatnonzero(exact & (stock >= 0))
    if len(rows):
        chance[rows], short[rows] = _panjer_tail(
            stock[rows].astype(int), rate[rows], mean_units[rows], quantities
        )
    return chance, short


def _panjer_tail(stock, rate, mean_units, quantities):
    """Panjer's recursion for a compound Poisson: f(0) = exp(-rate), f(s) = rate / s *
    sum_j j q_j f(s - j); the tail beyond `stock` and the expected excess over it."""
    top = int(stock.max())
    density = np.zeros((len(stock), top + 1))
    density[:, 0] = np.exp(-rate)
    weighted = np.arange(1, len(quantities) + 1) * quantities
    for total in range(1, top + 1):
        reach = min(total, len(weighted))
        before = density[:, total - reach : total][:, ::-1]  # f(total - 1) ... f(total - reach)
        density[:, total] = rate / total * (before @ weighted[:reach])
    upto = np.arange(top + 1)[None, :] <= stock[:, None]
    below = np.where(upto, density, 0.0)
    chance = np.clip(1.0 - below.sum(axis=1), 0.0, 1.0)
    short = (
        mean_units
        - stock
        + (np.where(upto, stock[:, None] - np.arange(top + 1), 0) * below).sum(axis=1)
    )
    return chance, np.maximum(short, 0.0)


# Further ahead than this, a date means nothing: a platform's "unlimited" stock (999999999)
# would otherwise be a day past the calendar's end.
FARTHEST_DATE_DAYS = 3650


def _dates_after(local_now: datetime, days: np.ndarray) -> list[date | None]:
    """The local day `days` days after the as-of; none when unknown or beyond ten years."""
    return [
        (local_now + timedelta(days=float(ahead))).date()
        if np.isfinite(ahead) and ahead <= FARTHEST_DATE_DAYS
        else None
        for ahead in days
    ]


def _clock(local_now: datetime) -> float:
    """The share of the as-of's day gone by."""
    return (local_now - datetime.combine(local_now.date(), time())) / timedelta(days=1)


def _longest(lead_times: pd.DataFrame) -> int:
    return int(lead_times.lead_time_days.max()) if len(lead_times) else HORIZON_DAYS


STOCK_AT = """
with

snapshots as (
    select warehouse_id, sku, snapshot_date, available, in_transit_qty, expected_arrival_date
    from {snapshots}
    where snapshot_date <= $today
    qualify row_number() over (partition by warehouse_id, sku order by snapshot_date desc) = 1
),

taken_since as (
    -- units ordered after the count (00:00 local of its day) and before the as-of
    select snapshots.warehouse_id, snapshots.sku, sum(lines.quantity) as units
    from snapshots
    inner join {orders} as orders
        on orders.warehouse_id = snapshots.warehouse_id
        and orders.placed_at >= timezone('UTC', timezone($zone, snapshots.snapshot_date::timestamp))
        and orders.placed_at < $as_of
    inner join {lines} as lines
        on lines.order_id = orders.order_id and lines.sku = snapshots.sku
    group by all
),

merchant_names as (
    select merchant_id, arg_max(merchant_name, placed_at) as merchant_name
    from {orders}
    where placed_at < $as_of
    group by merchant_id
)

select
    snapshots.warehouse_id,
    snapshots.sku,
    skus.merchant_id,
    merchant_names.merchant_name,
    snapshots.available - coalesce(taken_since.units, 0) as available,
    snapshots.in_transit_qty,
    snapshots.expected_arrival_date
from snapshots
left join taken_since using (warehouse_id, sku)
left join {skus} as skus using (sku)
left join merchant_names using (merchant_id)
order by snapshots.warehouse_id, snapshots.sku
"""


def _stock_at(connection, tables, moment: datetime, today: date) -> pd.DataFrame:
    query = STOCK_AT.format(
        snapshots=tables["stg_stock__stock_snapshots"],
        orders=tables["stg_orders__orders"],
        lines=tables["stg_orders__order_lines"],
        skus=tables["stg_stock__skus"],
    )
    return connection.execute(
        query, {"today": today, "as_of": moment, "zone": settings.reporting_timezone()}
    ).df()


DAILY_UNITS = """
select
    orders.warehouse_id,
    lines.sku,
    cast(timezone($zone, timezone('UTC', orders.placed_at)) as date) as day,
    sum(lines.quantity) as units,
    count(distinct orders.order_id) as orders
from {orders} as orders
inner join {lines} as lines on lines.order_id = orders.order_id
where orders.placed_at >= $since and orders.placed_at < $until
group by all
"""


def _daily_units(connection, tables, moment: datetime, today: date) -> pd.DataFrame:
    """Units and orders per item and local day, over the complete days of the history."""
    since = _utc_of_local(datetime.combine(today - timedelta(days=HISTORY_DAYS), time()))
    until = min(moment, _utc_of_local(datetime.combine(today, time())))
    query = DAILY_UNITS.format(
        orders=tables["stg_orders__orders"], lines=tables["stg_orders__order_lines"]
    )
    frame = connection.execute(
        query, {"since": since, "until": until, "zone": settings.reporting_timezone()}
    ).df()
    frame["day"] = pd.to_datetime(frame.day).dt.date
    return frame


def _warehouse_series(daily: pd.DataFrame, today: date) -> dict[str, np.ndarray]:
    """Units per warehouse and day, every day of the history (zero where nothing sold), from
    the warehouse's first day with sales."""
    series = {}
    for warehouse, rows in daily.groupby("warehouse_id", sort=True):
        per_day = rows.groupby("day").units.sum()
        days = pd.date_range(min(per_day.index), today - timedelta(days=1), freq="D").date
        series[warehouse] = per_day.reindex(days, fill_value=0).to_numpy(float)
    return series


def forecast_units(history: np.ndarray, horizon: int) -> np.ndarray:
    """Daily units for today and the `horizon` days after, from the daily history (oldest
    first). Holt-Winters when there are two weeks to learn the season from, else the mean of
    the last week."""
    if len(history) == 0:
        return np.zeros(horizon + 1)
    median = max(np.median(history), 1.0)
    capped = np.where(history > PROMOTION_CAP * median, median, history)
    if len(capped) < 2 * SEASON_DAYS or (capped <= 0).any():
        return np.full(horizon + 1, capped[-SEASON_DAYS:].mean())
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes on short, flat series
        fitted = ExponentialSmoothing(
            capped,
            trend="add",
            damped_trend=True,
            seasonal="mul",
            seasonal_periods=SEASON_DAYS,
            initialization_method="estimated",
        ).fit()
        forecast = fitted.forecast(horizon + 1)
    return np.maximum(np.asarray(forecast, dtype=float), 0.0)


def _sku_shares(daily: pd.DataFrame, today: date) -> pd.DataFrame:
    """Each item's share of its warehouse's units, and orders per unit, over SHARE_DAYS."""
    recent = daily[daily.day >= today - timedelta(days=SHARE_DAYS)]
    per_item = recent.groupby(ITEM, as_index=False)[["units", "orders"]].sum()
    per_warehouse = per_item.groupby("warehouse_id").units.transform("sum")
    per_item["share"] = per_item.units / per_warehouse
    per_item["orders_per_unit"] = per_item.orders / per_item.units
    return per_item[[*ITEM, "share", "orders_per_unit"]]


def _overall_orders_per_unit(daily: pd.DataFrame) -> float:
    units = daily.units.sum()
    return float(daily.orders.sum() / units) if units else 1.0


def _item_forecast(items: pd.DataFrame, warehouse_forecast, elapsed: float) -> np.ndarray:
    """(item, day) units from the as-of on: day 0 is what is left of today."""
    width = len(next(iter(warehouse_forecast.values()))) if warehouse_forecast else 1
    per_warehouse = (
        np.vstack(
            [warehouse_forecast.get(warehouse, np.zeros(width)) for warehouse in items.warehouse_id]
        )
        if len(items)
        else np.zeros((0, width))
    )
    demand = per_warehouse * items.share.to_numpy(float)[:, None]
    demand[:, 0] *= 1.0 - elapsed
    return demand


SHARE_ELAPSED = """
select
    sum(lines.quantity) filter (
        where cast(timezone($zone, timezone('UTC', orders.placed_at)) as time) < $clock
    ) / sum(lines.quantity)
from {orders} as orders
inner join {lines} as lines on lines.order_id = orders.order_id
where orders.placed_at >= $since and orders.placed_at < $until
"""


def _share_of_day_elapsed(connection, tables, moment: datetime, local_now: datetime) -> float:
    """Share of a day's units ordered before the as-of's clock time, over the last four
    weeks: evenings sell more than mornings, so 18:00 is not three quarters of the day."""
    if local_now.time() == time():
        return 0.0
    midnight = datetime.combine(local_now.date(), time())
    query = SHARE_ELAPSED.format(
        orders=tables["stg_orders__orders"], lines=tables["stg_orders__order_lines"]
    )
    (share,) = connection.execute(
        query,
        {
            "zone": settings.reporting_timezone(),
            "clock": local_now.time(),
            "since": _utc_of_local(midnight - timedelta(days=SHARE_DAYS)),
            "until": _utc_of_local(midnight),
        },
    ).fetchone()
    return float(share) if share is not None else (local_now - midnight) / timedelta(days=1)


def _days_of_cover(available: np.ndarray, demand: np.ndarray, today_left: float) -> np.ndarray:
    """Days from the as-of until the forecast demand uses up what is available: 0 when
    nothing is, NaN when nothing is expected to sell. Past the forecast, at its last pace.
    Days of the clock: the forecast's first day is the `today_left` days left of today."""
    cover = np.full(len(available), np.nan)
    if demand.shape[1] == 0:
        return cover
    cumulative = np.cumsum(demand, axis=1)
    for row in range(len(available)):
        stock, used = available[row], cumulative[row]
        if stock <= 0:
            cover[row] = 0.0
            continue
        if used[-1] <= 0:
            continue
        day = int(np.searchsorted(used, stock, side="left"))
        if day < len(used):
            before = used[day - 1] if day else 0.0
            cover[row] = day + (stock - before) / demand[row, day]
        else:
            pace = demand[row, -1] or used[-1] / len(used)
            cover[row] = len(used) + (stock - used[-1]) / pace
    # forecast days to clock days: an as-of late in the evening has hardly any of today left
    return np.where(cover <= 1, cover * today_left, cover - 1 + today_left)


def _demand_within(demand: np.ndarray, days: np.ndarray, today_left: float) -> np.ndarray:
    """Units expected in the first `days` days of the clock from the as-of (fractions
    included); the forecast's first day is the `today_left` days left of today."""
    days = np.where(days <= today_left, days / max(today_left, 1e-9), days - today_left + 1)
    cumulative = np.hstack([np.zeros((len(demand), 1)), np.cumsum(demand, axis=1)])
    whole = np.minimum(np.floor(days).astype(int), demand.shape[1])
    rows = np.arange(len(demand))
    part = np.where(whole < demand.shape[1], days - np.floor(days), 0.0)
    tail = demand[rows, np.minimum(whole, demand.shape[1] - 1)] * part
    return cumulative[rows, whole] + tail


LINE_QUANTITIES = """
select least(quantity, $largest) as quantity, count(*) as lines
from {orders} as orders
inner join {lines} as lines on lines.order_id = orders.order_id
where orders.placed_at >= $since and orders.placed_at < $as_of and lines.quantity >= 1
group by all
"""
LARGEST_QUANTITY = 50  # a rare bulk line counts as this many units: the sum stays tractable


def _line_quantities(connection, tables, moment: datetime) -> np.ndarray:
    """How often a line asks for 1, 2, ... units, over the last SHARE_DAYS days (one unit
    each when nothing sold)."""
    query = LINE_QUANTITIES.format(
        orders=tables["stg_orders__orders"], lines=tables["stg_orders__order_lines"]
    )
    counts = connection.execute(
        query,
        {
            "since": moment - timedelta(days=SHARE_DAYS),
            "as_of": moment,
            "largest": LARGEST_QUANTITY,
        },
    ).df()
    if counts.empty:
        return np.ones(1)
    frequency = np.zeros(int(counts.quantity.max()))
    frequency[counts.quantity.astype(int).to_numpy() - 1] = counts.lines.to_numpy(float)
    return frequency / frequency.sum()


OPEN_ORDERS = """
with

recent as (
    select order_id, warehouse_id
    from {orders}
    where placed_at < $as_of and placed_at >= $since
),

moved_on as (
    -- allocated, already on its way, or cancelled by the as-of: not waiting for stock
    select distinct events.order_id
    from {events} as events
    inner join recent using (order_id)
    where events.event_type in ('allocated', 'picked', 'shipped', 'cancelled')
        and events.event_at < $as_of
)

select recent.warehouse_id, lines.sku, count(distinct recent.order_id) as open_orders
from recent
inner join {lines} as lines using (order_id)
where recent.order_id not in (select order_id from moved_on)
group by all
"""


def _open_orders(connection, tables, moment: datetime, items: pd.DataFrame) -> np.ndarray:
    query = OPEN_ORDERS.format(
        orders=tables["stg_orders__orders"],
        events=tables["stg_orders__order_events"],
        lines=tables["stg_orders__order_lines"],
    )
    counts = connection.execute(
        query, {"as_of": moment, "since": moment - timedelta(days=OPEN_ORDER_DAYS)}
    ).df()
    merged = items[ITEM].merge(counts, on=ITEM, how="left")
    return merged.open_orders.fillna(0).astype(int).to_numpy()


def _out_of_stock_exceptions(connection, tables) -> pd.DataFrame:
    return connection.execute(
        f"""
        select orders.warehouse_id, exceptions.sku, exceptions.detected_at
        from {tables["int_exception__out_of_stock"]} as exceptions
        inner join {tables["stg_orders__orders"]} as orders using (order_id)
        order by exceptions.detected_at
        """
    ).df()


def _label(flags: pd.DataFrame, exceptions: pd.DataFrame) -> pd.DataFrame:
    """Each (as-of, item) with whether an out_of_stock exception followed within the horizon."""
    pairs = flags[
        [*ITEM, "features_as_of", "is_at_risk", "stockout_probability", "days_of_cover"]
    ].copy()
    pairs["pair"] = np.arange(len(pairs))
    joined = pairs.merge(exceptions, on=ITEM, how="inner")
    window = (joined.detected_at > joined.features_as_of) & (
        joined.detected_at <= joined.features_as_of + timedelta(days=HORIZON_DAYS)
    )
    pairs["went_out"] = pairs.pair.isin(joined.pair[window])
    return pairs


def _run_outs(exceptions: pd.DataFrame, start: datetime, end: datetime) -> pd.DataFrame:
    """Each item's first exception after NEW_STOCKOUT_GAP without one, within (start, end]."""
    ordered = exceptions.sort_values([*ITEM, "detected_at"], kind="stable")
    previous = ordered.groupby(ITEM).detected_at.shift()
    new = previous.isna() | (ordered.detected_at - previous > NEW_STOCKOUT_GAP)
    run_outs = ordered[new]
    inside = (run_outs.detected_at > start) & (run_outs.detected_at <= end)
    return run_outs[inside]


def _lead_times(flags: pd.DataFrame, run_outs: pd.DataFrame) -> pd.Series:
    """Hours from the first flag within the horizon before each run-out to the run-out."""
    flagged = flags[flags.is_at_risk][[*ITEM, "features_as_of"]]
    joined = run_outs.reset_index(drop=True).reset_index().merge(flagged, on=ITEM, how="inner")
    before = (joined.features_as_of < joined.detected_at) & (
        joined.features_as_of >= joined.detected_at - timedelta(days=HORIZON_DAYS)
    )
    first = (
        joined[before]
        .groupby("index")
        .agg(detected_at=("detected_at", "first"), first_flag=("features_as_of", "min"))
    )
    return (first.detected_at - first.first_flag) / timedelta(hours=1)


def _measure(pairs: pd.DataFrame, flags, exceptions, moments: list[datetime]) -> dict:
    predicted, actual = pairs.is_at_risk.to_numpy(bool), pairs.went_out.to_numpy(bool)
    flagged = _hits(predicted, actual)
    run_outs = _run_outs(exceptions, moments[0], moments[-1] + timedelta(days=HORIZON_DAYS))
    leads = _lead_times(flags, run_outs)
    return {
        "model_version": MODEL_VERSION,
        "horizon_days": HORIZON_DAYS,
        "as_of_days": len(moments),
        "first_as_of": moments[0].isoformat(sep=" "),
        "last_as_of": moments[-1].isoformat(sep=" "),
        "pairs": len(pairs),
        "flagged": flagged["flagged"],
        "went_out": int(actual.sum()),
        "true_positives": flagged["true_positives"],
        "precision": flagged["precision"],
        "recall": flagged["recall"],
        # "flag every item" scores this precision (and recall 1); "flag none" recall 0
        "base_rate": float(actual.mean()) if len(actual) else None,
        # the probabilities summed: a calibrated model expects about as many as went out
        "expected_went_out": float(flags.stockout_probability.sum()),
        "mean_probability_flagged": (
            float(flags.stockout_probability[predicted].mean()) if predicted.any() else None
        ),
        "run_outs": len(run_outs),
        "run_outs_flagged_before": len(leads),
        "median_lead_time_hours": float(leads.median()) if len(leads) else None,
        # what another threshold would trade: precision and recall flagged from each chance
        "frontier": {
            f"{threshold:g}": _hits(
                (pairs.stockout_probability >= threshold) & (pairs.days_of_cover <= HORIZON_DAYS),
                actual,
            )
            for threshold in FRONTIER
        },
    }


def _hits(predicted, actual: np.ndarray) -> dict:
    """How many were flagged, how many of those went out, precision and recall."""
    predicted = np.asarray(predicted, dtype=bool)
    hits = int((predicted & actual).sum())
    return {
        "flagged": int(predicted.sum()),
        "true_positives": hits,
        "precision": hits / int(predicted.sum()) if predicted.any() else None,
        "recall": hits / int(actual.sum()) if actual.any() else None,
    }
