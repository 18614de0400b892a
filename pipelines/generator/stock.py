"""Daily stock snapshots per (warehouse, SKU), the orders that found no stock, and the cells
the stock rules flag.

The snapshots follow each item's stock over the days (pipelines/generator/replenishment.py):
the morning's available is the previous morning's, less what that day's order lines took,
plus what replenishments brought. A line that finds the item run out makes its order an
out_of_stock order. The cell rules follow from the counted values, as the dbt rules read
them: a cell below zero is oversold, a cell under its safety stock is below safety; on top,
a few clean cells show a platform count that disagrees with the WMS (stock_mismatch). Every
order placed on a flagged cell with a line of it carries that cell's code: the truth lists
them all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.generator import reference as ref
from pipelines.generator import replenishment as rp
from pipelines.generator.catalogue import Catalogue
from pipelines.generator.exception_types import BY_CODE, MINIMUM_PER_TYPE
from pipelines.generator.injection import Injected
from pipelines.generator.orders import DAY, HOUR, Calendar, Lines, Orders

CLEAN, BELOW_SAFETY, OVERSOLD, MISMATCH = range(4)
CELL_KIND_CODES = {
    BELOW_SAFETY: "below_safety_stock",
    OVERSOLD: "oversold",
    MISMATCH: "stock_mismatch",
}
# Orders placed from this hour on are allocated but not yet shipped at the next 00:00 count.
EVENING = 16 * HOUR
NEVER = rp.NEVER


@dataclass
class Snapshots:
    """One entry per (day, warehouse, SKU) cell, day-major."""

    day: np.ndarray
    warehouse: np.ndarray
    sku: np.ndarray
    on_hand: np.ndarray
    allocated: np.ndarray
    available: np.ndarray
    safety_stock: np.ndarray
    platform_available: np.ndarray
    kind: np.ndarray
    in_transit: np.ndarray  # units on open purchase orders at the count
    expected_arrival_day: np.ndarray  # planned day (from 0) of the earliest open one, -1 if none


@dataclass
class StockOuts:
    """Each time a (warehouse, SKU) ran out, for the truth's stockouts file."""

    warehouse: np.ndarray
    sku: np.ndarray  # index into the catalogue
    ran_out_at: np.ndarray  # local seconds
    recovered_at: np.ndarray  # local seconds, NEVER when not covered yet
    late_replenishment: np.ndarray
    orders_short: np.ndarray


@dataclass
class StockCount:
    snapshots: Snapshots
    cell_of_line: np.ndarray  # per line, the cell it reads; -1 for SKUs not in the master
    out_of_stock: np.ndarray  # orders with a line that found its item run out, ascending
    stock_out_sku: np.ndarray  # per order: catalogue index of the first such line's SKU, or -1
    restocked_at: np.ndarray  # per order: when the stock for all its short lines is in, or NEVER
    stock_outs: StockOuts
    replenishments: rp.Replenishments
    tight_items: np.ndarray  # per item: provisioned too tightly
    demand: np.ndarray  # (day, item): units expected, the merchant's plan (the promotion included)


def mark_stock_outs(injected: Injected, count: StockCount) -> None:
    """The orders that found no stock carry out_of_stock, with what their lifecycle needs."""
    injected.orders_of["out_of_stock"] = count.out_of_stock
    injected.stock_out_sku = count.stock_out_sku
    injected.restocked_at = count.restocked_at


def line_cells(orders: Orders, lines: Lines, calendar: Calendar, sku_count: int) -> np.ndarray:
    """The snapshot cell of each line (its order's placed day), -1 for SKUs not in the master."""
    day = (orders.placed[lines.order] - calendar.start) // DAY
    cell = (day * len(ref.WAREHOUSES) + orders.warehouse[lines.order]) * sku_count + lines.sku
    return np.where(lines.sku >= 0, cell, -1)


def count_stock(
    rng: np.random.Generator,
    orders: Orders,
    lines: Lines,
    catalogue: Catalogue,
    calendar: Calendar,
    days: int,
    lead_times: ref.LeadTimes,
) -> StockCount:
    """Run every item's stock over the days; the snapshots, and which orders found none."""
    sku_count = len(catalogue)
    item_count = len(ref.WAREHOUSES) * sku_count
    cell_of_line = line_cells(orders, lines, calendar, sku_count)
    known = np.flatnonzero(cell_of_line >= 0)
    line_item = cell_of_line[known] % item_count
    line_day = cell_of_line[known] // item_count
    line_units = lines.quantity[known].astype(np.int64)
    units = np.zeros((days, item_count), dtype=np.int64)
    np.add.at(units, (line_day, line_item), line_units)
    items = rp.Items(
        lead_days=_lead_days(catalogue, lead_times),
        daily_demand=units.sum(axis=0) / days,
        is_active=np.tile(~catalogue.is_discontinued, len(ref.WAREHOUSES)),
    )
    draws = rp.draw(rng, days, item_count)
    line_time = orders.placed[lines.order[known]]

    def run(tight: np.ndarray):
        policy = rp.plan_policy(items, draws, tight, calendar, days)
        trajectory = rp.simulate(units, policy, items, draws, calendar.start)
        shortfalls, episodes = rp.find_shortfalls(
            line_item, line_time, line_units, policy.opening, trajectory, calendar.start
        )
        return policy, trajectory, shortfalls, episodes

    candidates = _steady_sellers(items)
    trial = run(candidates)
    tight = _choose_tight(rng, candidates, trial, line_item, line_day, len(orders))
    policy, trajectory, shortfalls, episodes = run(tight)

    snapshots = _snapshots(trajectory, policy, sku_count, days)
    _count_on_order(snapshots, trajectory, calendar.start, days)
    _count_pending(snapshots, line_item, line_day, line_units, line_time, shortfalls, item_count)
    _spoil_clean_cells(rng, snapshots, cell_of_line, lines, len(orders))

    short_lines = known[shortfalls.is_short]
    return StockCount(
        snapshots=snapshots,
        cell_of_line=cell_of_line,
        out_of_stock=np.unique(lines.order[short_lines]),
        stock_out_sku=_first_short_sku(lines, short_lines, len(orders)),
        restocked_at=_restocked_at(lines, short_lines, shortfalls, len(orders)),
        stock_outs=_stock_outs(episodes, lines, known, shortfalls, sku_count, len(orders)),
        replenishments=trajectory.replenishments,
        tight_items=tight,
        demand=rp.demand_outlook(items, calendar, days, 0),
    )


def _lead_days(catalogue: Catalogue, lead_times: ref.LeadTimes) -> np.ndarray:
    return np.array(
        [
            lead_times.of(warehouse.warehouse_id, sku)
            for warehouse in ref.WAREHOUSES
            for sku in catalogue.sku.tolist()
        ],
        dtype=np.int64,
    )


def _steady_sellers(items: rp.Items) -> np.ndarray:
    selling = items.is_active & (items.daily_demand > 0)
    if not selling.any():
        return selling
    low, high = np.quantile(items.daily_demand[selling], rp.TIGHT_DEMAND_QUANTILES)
    return selling & (items.daily_demand >= low) & (items.daily_demand <= high)


def _choose_tight(rng, candidates, trial, line_item, line_day, order_count) -> np.ndarray:
    """Provision fast movers too tightly, one at a time in random order, until the orders
    that find no stock reach out_of_stock's share and the oversold and below-safety cells
    they bring reach the minimum every sub-type has (so small samples show each)."""
    policy, trajectory, shortfalls, _ = trial
    item_count = len(candidates)
    morning = trajectory.morning[line_day, line_item]
    short = np.bincount(line_item[shortfalls.is_short], minlength=item_count)
    oversold = np.bincount(line_item[morning < 0], minlength=item_count)
    below = (morning >= 0) & (morning < policy.safety_stock[line_item])
    below_safety = np.bincount(line_item[below], minlength=item_count)
    target = max(MINIMUM_PER_TYPE + 2, round(BY_CODE["out_of_stock"].share * order_count))
    tight = np.zeros(item_count, dtype=bool)
    taken = np.zeros(3, dtype=np.int64)
    for item in rng.permutation(np.flatnonzero(candidates)).tolist():
        if taken[0] >= target and min(taken[1], taken[2]) >= MINIMUM_PER_TYPE:
            break
        if short[item] == 0:
            continue  # tight on paper but never ran out: nothing to show
        tight[item] = True
        taken += (short[item], oversold[item], below_safety[item])
    return tight


def _snapshots(trajectory: rp.Trajectory, policy: rp.Policy, sku_count, days) -> Snapshots:
    available = trajectory.morning.ravel()
    item_count = trajectory.morning.shape[1]
    index = np.arange(days * item_count)
    safety = np.tile(policy.safety_stock, days)
    kind = np.where(
        available < 0, OVERSOLD, np.where(available < safety, BELOW_SAFETY, CLEAN)
    ).astype(np.int8)
    owed = np.maximum(-available, 0)
    return Snapshots(
        day=index // item_count,
        warehouse=(index // sku_count) % len(ref.WAREHOUSES),
        sku=index % sku_count,
        on_hand=np.maximum(available, 0),
        allocated=owed,  # lines waiting for stock hold their units on paper
        available=available,
        safety_stock=safety,
        platform_available=available.copy(),
        kind=kind,
        in_transit=np.zeros(days * item_count, dtype=np.int64),
        expected_arrival_day=np.full(days * item_count, -1, dtype=np.int64),
    )


def _count_on_order(snapshots: Snapshots, trajectory: rp.Trajectory, start: int, days: int):
    """What the ERP shows at each 00:00 count of the purchase orders still open (采购在途):
    ordered on an earlier night and not yet received. Their units, and the day the earliest
    was planned to arrive: the plan, which a late replenishment then misses (that day is past
    and the order still open), never the day it does arrive."""
    rep = trajectory.replenishments
    item_count = trajectory.morning.shape[1]
    first_open = rep.ordered_day + 1
    last_open = np.minimum((rep.arrives - start) // DAY, days - 1)  # received during that day
    due_day = (rep.due - start) // DAY
    in_transit = np.zeros((days + 1, item_count), dtype=np.int64)
    opened = first_open <= last_open
    np.add.at(in_transit, (first_open[opened], rep.item[opened]), trajectory.units_in[opened])
    np.add.at(in_transit, (last_open[opened] + 1, rep.item[opened]), -trajectory.units_in[opened])
    snapshots.in_transit = np.cumsum(in_transit, axis=0)[:days].ravel()
    expected = np.full((days, item_count), -1, dtype=np.int64)
    # an item's orders share its lead time, so the earliest planned is the earliest ordered:
    # write the latest first and let earlier ones overwrite the days they are open
    latest_first = np.argsort(-rep.ordered_day, kind="stable")
    for index in latest_first[opened[latest_first]].tolist():
        expected[first_open[index] : last_open[index] + 1, rep.item[index]] = due_day[index]
    snapshots.expected_arrival_day = expected.ravel()


def _count_pending(snapshots, line_item, line_day, line_units, line_time, shortfalls, item_count):
    """Lines filled in the evening are allocated, not yet shipped, at the next 00:00 count:
    on hand and allocated both hold them."""
    evening = (line_time % DAY >= EVENING) & ~shortfalls.is_short
    cell = (line_day[evening] + 1) * item_count + line_item[evening]
    inside = cell < len(snapshots.available)
    pending = np.bincount(
        cell[inside], weights=line_units[evening][inside], minlength=len(snapshots.available)
    ).astype(np.int64)
    snapshots.on_hand += pending
    snapshots.allocated += pending


def _spoil_clean_cells(
    rng, snapshots: Snapshots, cell_of_line: np.ndarray, lines: Lines, order_count: int
) -> None:
    """The platform shows another count than the WMS on clean cells, until about
    stock_mismatch's share of orders is touched."""
    known = cell_of_line >= 0
    pairs = np.unique(cell_of_line[known] * order_count + lines.order[known])
    orders_per_cell = np.bincount(pairs // order_count, minlength=len(snapshots.kind))
    clean = (snapshots.kind == CLEAN) & (orders_per_cell > 0)
    occupied = rng.permutation(np.flatnonzero(clean))
    target = max(MINIMUM_PER_TYPE, round(BY_CODE["stock_mismatch"].share * order_count))
    touched = np.cumsum(orders_per_cell[occupied])
    chosen = occupied[: max(1, int(np.searchsorted(touched, target, side="right")))]
    snapshots.kind[chosen] = MISMATCH
    shift = rng.integers(1, 30, len(chosen)) * rng.choice([-1, 1], len(chosen))
    platform = np.maximum(snapshots.available[chosen] + shift, 0)
    platform[platform == snapshots.available[chosen]] += 5
    snapshots.platform_available[chosen] = platform


def _first_short_sku(lines: Lines, short_lines: np.ndarray, order_count: int) -> np.ndarray:
    """The SKU the order's stock_out event names: its first line that found no stock."""
    first_line = np.full(order_count, len(lines), dtype=np.int64)
    np.minimum.at(first_line, lines.order[short_lines], short_lines)
    has_short = first_line < len(lines)
    sku = np.full(order_count, -1, dtype=np.int64)
    sku[has_short] = lines.sku[first_line[has_short]]
    return sku


def _restocked_at(lines: Lines, short_lines, shortfalls: rp.Shortfalls, order_count: int):
    """An order is allocated once every line of it that found no stock is covered."""
    restocked = np.zeros(order_count, dtype=np.int64)
    np.maximum.at(restocked, lines.order[short_lines], shortfalls.served_at[shortfalls.is_short])
    return np.where(restocked > 0, restocked, NEVER)


def _stock_outs(episodes: rp.Episodes, lines, known, shortfalls, sku_count, order_count):
    short = shortfalls.is_short
    pairs = np.unique(shortfalls.episode[short] * order_count + lines.order[known[short]])
    return StockOuts(
        warehouse=episodes.item // sku_count,
        sku=episodes.item % sku_count,
        ran_out_at=episodes.ran_out_at,
        recovered_at=episodes.recovered_at,
        late_replenishment=episodes.late_replenishment,
        orders_short=np.bincount(pairs // order_count, minlength=len(episodes)),
    )
