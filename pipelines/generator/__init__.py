"""The sample data generator behind `oex generate`.

One call writes realistic input files for all nine contract tables into the inbox (one file
per table and Asia/Shanghai day), and the ground truth of every injected exception into the
truth folder. Everything is drawn from one seeded generator in a fixed order: same seed, same
bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.generator import reference as ref
from pipelines.generator import tables
from pipelines.generator.bad_rows import make_bad_rows
from pipelines.generator.catalogue import build_catalogue
from pipelines.generator.exception_types import BY_CODE, CODES
from pipelines.generator.feedback import open_tickets
from pipelines.generator.handling import handle
from pipelines.generator.injection import change_orders, choose_orders
from pipelines.generator.lifecycle import plan_timeline
from pipelines.generator.logistics import parcel_scans
from pipelines.generator.orders import DAY, HOUR, draw_lines, draw_orders, make_calendar
from pipelines.generator.stock import count_stock, mark_stock_outs
from pipelines.generator.truth import Truth, World, find_truth
from pipelines.generator.writer import EPOCH, write_daily_files

LOCAL_UTC_OFFSET = 8 * HOUR


def build_world(orders: int, days: int, merchants: int, seed: int, end_date: dt.date) -> World:
    """Draw every order, its life and its paperwork; nothing is written yet."""
    if orders < 1 or days < 1:
        raise ValueError("--orders and --days must be at least 1")
    rng = np.random.default_rng(seed)
    custom_rules = ref.load_custom_rules()
    merchant_ids = ref.merchant_ids(merchants)
    calendar = make_calendar(days, end_date)
    catalogue = build_catalogue(rng, len(merchant_ids))
    order_book = draw_orders(rng, orders, calendar, days, len(merchant_ids), custom_rules)
    lines = draw_lines(rng, order_book, catalogue)
    injected = choose_orders(rng, order_book, calendar, custom_rules)
    change_orders(rng, order_book, lines, catalogue, injected, custom_rules)
    # Stock follows the final lines (change_orders edits some), from a stream of its own.
    stock = count_stock(
        np.random.default_rng([seed, 3]),
        order_book,
        lines,
        catalogue,
        calendar,
        days,
        ref.load_lead_times(),
    )
    mark_stock_outs(injected, stock)
    timeline = plan_timeline(rng, order_book, injected)
    scans = parcel_scans(rng, order_book, timeline)
    tickets = open_tickets(rng, order_book.placed, timeline, injected)
    grams = np.zeros(len(order_book), dtype=np.int64)
    np.add.at(grams, lines.order, catalogue.weight_grams[np.maximum(lines.sku, 0)] * lines.quantity)
    return World(
        orders=order_book,
        lines=lines,
        catalogue=catalogue,
        injected=injected,
        timeline=timeline,
        scans=scans,
        snapshots=stock.snapshots,
        cell_of_line=stock.cell_of_line,
        stock_outs=stock.stock_outs,
        replenishments=stock.replenishments,
        demand=stock.demand,
        tickets=tickets,
        weight_kg=np.round(grams / 1000.0 + 0.15, 2),  # + the box
        custom_rules=custom_rules,
        cutoff=calendar.cutoff,
    )


def _utc(local_seconds: np.ndarray) -> pa.Array:
    return pa.array(local_seconds - LOCAL_UTC_OFFSET, pa.timestamp("s"))


def write_truth(truth: Truth, ids: pa.Array, truth_dir: Path) -> pa.Table:
    codes = np.asarray(CODES)[truth.code]
    table = pa.table(
        {
            "order_id": ids.take(pa.array(truth.order)),
            "exception_type": pa.array(codes.tolist(), pa.string()),
            "family": pa.array([BY_CODE[code].family for code in codes.tolist()], pa.string()),
            "observable_at": _utc(truth.observable),
        }
    )
    table = table.sort_by(
        [("observable_at", "ascending"), ("order_id", "ascending"), ("exception_type", "ascending")]
    )
    truth_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, truth_dir / "exceptions.parquet")
    return table


def write_stockouts(world: World, merchant_ids: list[str], truth_dir: Path) -> pa.Table:
    """Each time a (warehouse, SKU) ran out by the cutoff: when, when stock was back (null if
    not yet), whether a late replenishment caused it, and how many orders found no stock."""
    episodes = world.stock_outs
    seen = episodes.ran_out_at < world.cutoff
    recovered = episodes.recovered_at[seen]
    not_yet = recovered >= world.cutoff
    catalogue = world.catalogue
    sku = episodes.sku[seen]
    table = pa.table(
        {
            "warehouse_id": tables.text(
                [w.warehouse_id for w in ref.WAREHOUSES], episodes.warehouse[seen]
            ),
            "sku": pa.array(catalogue.sku[sku].tolist(), pa.string()),
            "merchant_id": tables.text(merchant_ids, catalogue.merchant_index[sku]),
            "ran_out_at": _utc(episodes.ran_out_at[seen]),
            "ran_out_on": pa.array(episodes.ran_out_at[seen] // DAY, pa.int32()).cast(pa.date32()),
            "recovered_on": pa.array(
                np.where(not_yet, 0, recovered // DAY), pa.int32(), mask=not_yet
            ).cast(pa.date32()),
            "late_replenishment": pa.array(episodes.late_replenishment[seen]),
            "orders_short": pa.array(episodes.orders_short[seen]),
        }
    )
    table = table.sort_by(
        [("ran_out_at", "ascending"), ("warehouse_id", "ascending"), ("sku", "ascending")]
    )
    pq.write_table(table, truth_dir / "stockouts.parquet")
    return table


def write_stock_plan(world: World, days: int, truth_dir: Path) -> None:
    """What no export shows and the stock-out ceiling replays with (pipelines/risk/ceiling.py):
    each replenishment's planned and actual arrival, and the units each (warehouse, SKU) was
    expected to sell each day (the merchant's plan, the promotion included)."""
    warehouse_ids = [w.warehouse_id for w in ref.WAREHOUSES]
    sku_count = len(world.catalogue)
    rep = world.replenishments
    replenishments = pa.table(
        {
            "warehouse_id": tables.text(warehouse_ids, rep.item // sku_count),
            "sku": pa.array(world.catalogue.sku[rep.item % sku_count].tolist(), pa.string()),
            "due_at": _utc(rep.due),
            "arrives_at": _utc(rep.arrives),
        }
    ).sort_by([("arrives_at", "ascending"), ("warehouse_id", "ascending"), ("sku", "ascending")])
    pq.write_table(replenishments, truth_dir / "replenishments.parquet")
    day, item = np.nonzero(world.demand > 0)
    first_day = world.cutoff // DAY - days
    demand = pa.table(
        {
            "day": pa.array(first_day + day, pa.int32()).cast(pa.date32()),
            "warehouse_id": tables.text(warehouse_ids, item // sku_count),
            "sku": pa.array(world.catalogue.sku[item % sku_count].tolist(), pa.string()),
            "expected_units": pa.array(world.demand[day, item]),
        }
    )
    pq.write_table(demand, truth_dir / "demand.parquet")


def generate(
    orders: int,
    days: int,
    merchants: int,
    seed: int,
    end_date: dt.date,
    file_format: str,
    bad_rows: float,
    inbox: Path,
    truth_dir: Path,
) -> str:
    """Write the sample inbox and its ground truth; return a short summary for people."""
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"file format must be csv or parquet, got {file_format!r}")
    if not 0 <= bad_rows < 1:
        raise ValueError(f"--bad-rows is a share between 0 and 1, got {bad_rows}")
    started = time.perf_counter()
    inbox, truth_dir = Path(inbox), Path(truth_dir)
    world = build_world(orders, days, merchants, seed, end_date)
    truth = find_truth(world)
    actions = handle(np.random.default_rng([seed, 1]), truth, world.timeline, world.cutoff)
    merchant_ids = ref.merchant_ids(merchants)
    ids = tables.order_ids(world)

    shipments, tracking_numbers = tables.shipments_table(world, ids)
    builders = (
        lambda: tables.orders_table(world, ids, merchant_ids),
        lambda: tables.order_lines_table(world, ids),
        lambda: tables.order_events_table(world, ids),
        lambda: tables.skus_table(world.catalogue, merchant_ids, (end_date - EPOCH).days),
        lambda: tables.stock_snapshots_table(
            world.snapshots, world.catalogue, world.cutoff // DAY - days
        ),
        lambda: shipments,
        lambda: tables.tracking_events_table(world, tracking_numbers),
        lambda: tables.tickets_table(world, ids, world.tickets),
        lambda: tables.handling_log_table(ids, actions),
    )
    bad_rng = np.random.default_rng([seed, 2])
    rows: dict[str, int] = {}
    files = 0
    bad_counts: Counter[str] = Counter()
    bad_by_table: dict[str, dict[str, int]] = {}
    for build in builders:  # one table at a time keeps memory flat at 10M orders
        dated = build()
        insertions = make_bad_rows(bad_rng, dated, bad_rows, end_date)
        if insertions is not None:
            bad_counts.update(insertions.counts)
            bad_by_table[dated.name] = insertions.counts
        files += len(write_daily_files(dated, inbox, file_format, insertions))
        rows[dated.name] = dated.table.num_rows
        del dated, insertions

    truth_table = write_truth(truth, ids, truth_dir)
    stockouts = write_stockouts(world, merchant_ids, truth_dir)
    write_stock_plan(world, days, truth_dir)
    exception_orders = len(np.unique(truth.order))
    per_type = Counter(truth_table.column("exception_type").to_pylist())
    as_of = dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time()) - dt.timedelta(hours=8)
    manifest = {
        "parameters": {
            "orders": orders,
            "days": days,
            "merchants": merchants,
            "seed": seed,
            "end_date": end_date.isoformat(),
            "file_format": file_format,
            "bad_rows": bad_rows,
        },
        "as_of_utc": as_of.isoformat(sep=" "),
        "cutoff_local": f"{(end_date + dt.timedelta(days=1)).isoformat()} 00:00:00",
        "rows": rows,
        "files": files,
        "orders_with_exception": exception_orders,
        "exception_rate": round(exception_orders / orders, 5),
        "exceptions": len(truth.order),
        "exceptions_by_type": {code: per_type.get(code, 0) for code in CODES},
        "stockouts": stockouts.num_rows,
        "stockouts_after_late_replenishment": sum(
            stockouts.column("late_replenishment").to_pylist()
        ),
        "bad_rows_by_kind": dict(sorted(bad_counts.items())),
        "bad_rows_by_table": bad_by_table,
        "seeds": [
            "dbt_project/seeds/carrier_excluded_regions.csv",
            "dbt_project/seeds/merchant_custom_rules.csv",
            "dbt_project/seeds/replenishment_lead_times.csv",
        ],
    }
    (truth_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    seconds = time.perf_counter() - started
    return (
        f"{orders:,} orders over {days} days for {merchants} merchants: {files} {file_format} "
        f"files in {inbox}; {exception_orders:,} orders ({exception_orders / orders:.1%}) "
        f"carry {len(truth.order):,} exceptions of {len(per_type)} types "
        f"(truth in {truth_dir}); {sum(bad_counts.values()):,} bad rows; {seconds:.1f} s"
    )
