"""Stock follows each (warehouse, SKU) over the days, and the stock-outs come from it."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest
from generator_sample import END_DATE

from pipelines.generator import build_world
from pipelines.generator import reference as ref
from pipelines.generator.orders import DAY, make_calendar
from pipelines.generator.replenishment import LATE_DAYS
from pipelines.generator.stock import count_stock


@pytest.fixture(scope="module")
def world():
    return build_world(orders=20_000, days=42, merchants=8, seed=7, end_date=END_DATE)


def _cells(sample) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(
        "create table snapshots as select * from read_csv(?)",
        [str(sample.inbox / "stock" / "stock_snapshots_*.csv")],
    )
    connection.execute(
        "create table taken as select o.warehouse_id, l.sku, o.placed_at::timestamp::date as day, "
        "sum(l.quantity::integer) as units from read_csv(?, all_varchar = true) l "
        "join read_csv(?, all_varchar = true) o using (order_id) group by all",
        [
            str(sample.inbox / "orders" / "order_lines_*.csv"),
            str(sample.inbox / "orders" / "orders_*.csv"),
        ],
    )
    return connection


def test_a_morning_count_is_the_last_one_less_what_orders_took_plus_what_arrived(sample):
    """The change from one count to the next, with the day's units added back, is what
    replenishments brought: never negative, and zero on most days."""
    brought = (
        _cells(sample)
        .execute(
            """
            select s.available + coalesce(t.units, 0) - lag(s.available) over (
                    partition by s.warehouse_id, s.sku order by s.snapshot_date
                ) as brought
            from snapshots s
            left join taken t on t.warehouse_id = s.warehouse_id and t.sku = s.sku
                and t.day = s.snapshot_date - 1
            qualify brought is not null
            """
        )
        .fetchnumpy()["brought"]
    )
    assert (brought >= 0).all()
    assert 0.005 < (brought > 0).mean() < 0.2  # a replenishment now and then


def test_healthy_items_never_run_out_and_a_minority_does(world):
    snapshots = world.snapshots
    items = len(ref.WAREHOUSES) * len(world.catalogue)
    available = snapshots.available.reshape(-1, items)
    ran_out = (available < 0).any(axis=0)
    episodes = np.unique(world.stock_outs.warehouse * len(world.catalogue) + world.stock_outs.sku)
    assert set(np.flatnonzero(ran_out)) <= set(episodes.tolist())
    assert 0 < len(episodes) <= 0.05 * items


def test_out_of_stock_orders_are_those_placed_while_their_item_was_out(world):
    orders, lines = world.orders, world.lines
    out = world.injected.orders_of["out_of_stock"]
    assert len(out) >= 10
    episodes = world.stock_outs
    for order in out[:50].tolist():
        sku = world.injected.stock_out_sku[order]
        assert sku in lines.sku[lines.order == order]
        mine = (episodes.warehouse == orders.warehouse[order]) & (episodes.sku == sku)
        placed = orders.placed[order]
        assert (
            (episodes.ran_out_at[mine] <= placed) & (episodes.recovered_at[mine] > placed)
        ).any()
    # ... and allocated only once the replenishment is in
    allocated = world.timeline.allocated[out]
    waited = allocated < world.cutoff
    assert (allocated[waited] > world.injected.restocked_at[out][waited]).all()


def test_stock_rules_share_of_orders_stays_near_the_catalogue(sample):
    counts = sample.manifest["exceptions_by_type"]
    orders = sample.manifest["parameters"]["orders"]
    assert 0.001 <= counts["out_of_stock"] / orders <= 0.004
    for code in ("below_safety_stock", "oversold", "stock_mismatch"):
        assert 3 <= counts[code] <= 0.004 * orders, code


def test_stockouts_truth_says_when_each_ran_out_and_came_back(sample):
    stockouts = pq.read_table(sample.truth_dir / "stockouts.parquet").to_pylist()
    assert stockouts
    assert set(stockouts[0]) == {
        "warehouse_id",
        "sku",
        "merchant_id",
        "ran_out_at",
        "ran_out_on",
        "recovered_on",
        "late_replenishment",
        "orders_short",
    }
    for row in stockouts:
        assert row["orders_short"] >= 1
        assert row["recovered_on"] is None or row["recovered_on"] >= row["ran_out_on"]
        assert row["ran_out_on"] <= END_DATE
    assert sample.manifest["stockouts"] == len(stockouts)


def test_the_truth_holds_the_plan_and_every_arrival_the_exports_do_not_show(sample):
    """truth/demand.parquet: the units each item was expected to sell each day (the plan the
    lines were drawn from, the promotion included); truth/replenishments.parquet: when each
    replenishment was due and when it came. The stock-out ceiling replays with them."""
    demand = pq.read_table(sample.truth_dir / "demand.parquet").to_pandas()
    taken = (
        _cells(sample)
        .execute(
            "select sum(units) from taken"
            " where (warehouse_id, sku) in (select (warehouse_id, sku) from snapshots)"
        )
        .fetchone()[0]
    )
    # the plan is the period's own pace of the SKUs in the master, spread over the days by
    # their weights
    assert demand.expected_units.sum() == pytest.approx(taken, rel=1e-6)
    busiest = demand.groupby("day").expected_units.sum().idxmax()
    assert busiest.strftime("%m-%d") == "11-11"
    arrivals = pq.read_table(sample.truth_dir / "replenishments.parquet").to_pandas()
    late = arrivals.arrives_at > arrivals.due_at
    assert (arrivals.arrives_at >= arrivals.due_at).all() and 0.1 < late.mean() < 0.35
    lateness = (arrivals.arrives_at - arrivals.due_at)[late].dt.days
    assert set(lateness) <= set(range(LATE_DAYS[0], LATE_DAYS[1] + 1))
    counted = _cells(sample).execute("select distinct warehouse_id, sku from snapshots").df()
    replenished = arrivals[["warehouse_id", "sku"]].drop_duplicates()
    assert len(replenished.merge(counted)) == len(replenished)  # every one of a counted item


def test_replenishments_follow_the_seed_lead_times_and_some_come_late(world):
    calendar = make_calendar(42, END_DATE)
    lead_times = ref.LeadTimes(
        by_warehouse={warehouse.warehouse_id: 4 for warehouse in ref.WAREHOUSES},
        by_sku={("WH-GZ01", world.catalogue.sku[0]): 11},
    )
    count = count_stock(
        np.random.default_rng(5),
        world.orders,
        world.lines,
        world.catalogue,
        calendar,
        42,
        lead_times,
    )
    rep = count.replenishments
    ordered = calendar.start + rep.ordered_day * DAY
    lead_days = (rep.due - ordered) // DAY
    overridden = rep.item == 1 * len(world.catalogue) + 0  # WH-GZ01 (second), the first SKU
    assert set(lead_days[~overridden].tolist()) == {4}
    assert set(lead_days[overridden].tolist()) <= {11}
    late_days = (rep.arrives - rep.due) // DAY
    assert set(late_days.tolist()) <= {0, *range(LATE_DAYS[0], LATE_DAYS[1] + 1)}
    assert 0.15 < rep.is_late.mean() < 0.3


def test_the_seed_gives_each_warehouse_a_default_and_some_skus_their_own():
    lead_times = ref.load_lead_times()
    assert set(lead_times.by_warehouse) == {warehouse.warehouse_id for warehouse in ref.WAREHOUSES}
    warehouse, sku = next(iter(lead_times.by_sku))
    assert lead_times.of(warehouse, sku) == lead_times.by_sku[warehouse, sku]
    assert lead_times.of(warehouse, "NOT-A-SKU") == lead_times.by_warehouse[warehouse]
    with pytest.raises(ValueError, match="no default row"):
        ref.LeadTimes(by_warehouse={}, by_sku={}).of("WH-XX01", "A")


def test_late_replenishments_cause_some_stockouts(world):
    episodes = world.stock_outs
    seen = episodes.ran_out_at < world.cutoff
    assert 0 < episodes.late_replenishment[seen].sum() < seen.sum()


def test_stockout_days_are_local_days(sample):
    stockouts = pq.read_table(sample.truth_dir / "stockouts.parquet").to_pylist()
    for row in stockouts:
        local = row["ran_out_at"] + dt.timedelta(hours=8)
        assert local.date() == row["ran_out_on"]


def test_counts_show_the_open_purchase_orders_as_planned_not_as_they_came(world):
    """in_transit_qty: units ordered on an earlier night and not yet received at the count;
    expected_arrival_date: the earliest open order's planned day, which a late one then
    misses (its day passes and it is still open), never the day it does come."""
    calendar = make_calendar(42, END_DATE)
    count = count_stock(
        np.random.default_rng([7, 3]),
        world.orders,
        world.lines,
        world.catalogue,
        calendar,
        42,
        ref.load_lead_times(),
    )
    items = len(ref.WAREHOUSES) * len(world.catalogue)
    in_transit = count.snapshots.in_transit.reshape(-1, items)
    planned = count.snapshots.expected_arrival_day.reshape(-1, items)
    assert ((in_transit > 0) == (planned >= 0)).all()
    rep = count.replenishments
    due_day = (rep.due - calendar.start) // DAY
    arrival_day = (rep.arrives - calendar.start) // DAY
    counted = rep.ordered_day + 1 < 42
    first_count = rep.ordered_day[counted] + 1
    # on order from the first count after the night it was ordered...
    assert (in_transit[first_count, rep.item[counted]] > 0).all()
    assert (planned[first_count, rep.item[counted]] <= due_day[counted]).all()
    # ... until the count after the day it came, which no longer shows its planned day
    came = counted & (arrival_day + 1 < 42)
    assert (planned[arrival_day[came] + 1, rep.item[came]] != due_day[came]).all()
    # a late one shows overdue (its planned day past) on the morning it does come
    late = came & rep.is_late
    assert late.sum() >= 5
    assert (planned[arrival_day[late], rep.item[late]] < arrival_day[late]).all()
