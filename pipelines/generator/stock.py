"""Daily stock snapshots per (warehouse, SKU), and the cells where stock goes wrong.

A clean cell has at least 20 units above safety stock and the platform shows what the WMS
shows. An injected cell (below safety, oversold, platform disagrees) affects every order
placed that day with a line of that SKU from that warehouse: the truth lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.generator import reference as ref
from pipelines.generator.catalogue import Catalogue
from pipelines.generator.exception_types import BY_CODE, MINIMUM_PER_TYPE
from pipelines.generator.orders import DAY, Calendar, Lines, Orders

CLEAN, BELOW_SAFETY, OVERSOLD, MISMATCH = range(4)
CELL_KIND_CODES = {
    BELOW_SAFETY: "below_safety_stock",
    OVERSOLD: "oversold",
    MISMATCH: "stock_mismatch",
}


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


def line_cells(orders: Orders, lines: Lines, calendar: Calendar, sku_count: int) -> np.ndarray:
    """The snapshot cell of each line (its order's placed day), -1 for SKUs not in the master."""
    day = (orders.placed[lines.order] - calendar.start) // DAY
    cell = (day * len(ref.WAREHOUSES) + orders.warehouse[lines.order]) * sku_count + lines.sku
    return np.where(lines.sku >= 0, cell, -1)


def count_snapshots(
    rng: np.random.Generator,
    orders: Orders,
    lines: Lines,
    catalogue: Catalogue,
    calendar: Calendar,
    days: int,
) -> tuple[Snapshots, np.ndarray]:
    """The snapshots and, per line, the cell it reads."""
    sku_count, warehouses = len(catalogue), len(ref.WAREHOUSES)
    cells = days * warehouses * sku_count
    cell_of_line = line_cells(orders, lines, calendar, sku_count)
    kind = np.zeros(cells, dtype=np.int8)
    _spoil_cells(rng, kind, cell_of_line, lines, len(orders))

    index = np.arange(cells)
    safety_per_item = rng.integers(5, 40, warehouses * sku_count)
    safety = safety_per_item[index % (warehouses * sku_count)]
    available = safety + rng.integers(20, 400, cells)
    allocated = rng.integers(0, 60, cells)
    below = kind == BELOW_SAFETY
    available[below] = (rng.random(int(below.sum())) * safety[below]).astype(np.int64)
    oversold = kind == OVERSOLD
    available[oversold] = -rng.integers(1, 12, int(oversold.sum()))
    allocated[oversold] = rng.integers(12, 40, int(oversold.sum()))
    platform = available.copy()
    mismatch = kind == MISMATCH
    shift = rng.integers(1, 30, int(mismatch.sum())) * rng.choice([-1, 1], int(mismatch.sum()))
    platform[mismatch] = np.maximum(available[mismatch] + shift, 0)
    platform[mismatch & (platform == available)] += 5
    snapshots = Snapshots(
        day=index // (warehouses * sku_count),
        warehouse=(index // sku_count) % warehouses,
        sku=index % sku_count,
        on_hand=available + allocated,
        allocated=allocated,
        available=available,
        safety_stock=safety,
        platform_available=platform,
        kind=kind,
    )
    return snapshots, cell_of_line


def _spoil_cells(
    rng, kind: np.ndarray, cell_of_line: np.ndarray, lines: Lines, order_count: int
) -> None:
    """Pick cells until each stock sub-type touches about its share of orders."""
    known = cell_of_line >= 0
    pairs = np.unique(cell_of_line[known] * order_count + lines.order[known])
    orders_per_cell = np.bincount(pairs // order_count, minlength=len(kind))
    occupied = rng.permutation(np.flatnonzero(orders_per_cell))
    position = 0
    for cell_kind, code in CELL_KIND_CODES.items():
        target = max(MINIMUM_PER_TYPE, round(BY_CODE[code].share * order_count))
        touched = np.cumsum(orders_per_cell[occupied[position:]])
        take = max(1, int(np.searchsorted(touched, target, side="right")))
        kind[occupied[position : position + take]] = cell_kind
        position += take
