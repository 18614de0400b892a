"""Malformed rows of the kinds real exports contain, for `--bad-rows RATE`.

They are EXTRA rows: each is a copy of a real row whose ids are replaced by ids that exist
nowhere else (so no real order is touched and the truth stays right), with one defect applied.
Duplicate keys are the exception: an exact copy of a real row, placed right after it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.generator.tables import DatedTable

KINDS = (
    "wrong_type",
    "unparseable_timestamp",
    "future_timestamp",
    "non_positive_quantity",
    "duplicate_key",
    "empty_required",
    "unknown_enum",
)
# Columns whose values are replaced by made-up ids, so an extra row references nothing real.
FAKE_IDS = {
    "orders": {"order_id": "SOX", "platform_order_no": "X"},
    "order_lines": {"order_id": "SOX"},
    "order_events": {"event_id": "OEX", "order_id": "SOX"},
    "skus": {"sku": "ZZ-", "product_id": "ZZ"},
    "stock_snapshots": {"sku": "ZZ-"},
    "shipments": {"shipment_id": "SPX", "order_id": "SOX", "tracking_number": "XX"},
    "tracking_events": {"event_id": "TEX", "tracking_number": "XX"},
    "tickets": {"ticket_id": "TKX", "order_id": "SOX"},
    "handling_log": {"action_id": "HAX", "order_id": "SOX"},
}
# (table, kind) -> (column, values to cycle through)
DEFECTS = {
    ("orders", "wrong_type"): ("order_amount", ("abc", "12,80", "￥99")),
    ("order_lines", "wrong_type"): ("quantity", ("abc", "1.5", "两件")),
    ("skus", "wrong_type"): ("weight_kg", ("n/a", "0.5kg")),
    ("stock_snapshots", "wrong_type"): ("on_hand", ("abc", "十")),
    ("tickets", "wrong_type"): ("rating", ("五星", "good")),
    ("order_lines", "non_positive_quantity"): ("quantity", ("0", "-1", "-3")),
    ("orders", "empty_required"): ("merchant_id", (None,)),
    ("order_lines", "empty_required"): ("sku", (None,)),
    ("order_events", "empty_required"): ("event_type", (None,)),
    ("skus", "empty_required"): ("status", (None,)),
    ("stock_snapshots", "empty_required"): ("on_hand", (None,)),
    ("shipments", "empty_required"): ("carrier", (None,)),
    ("tracking_events", "empty_required"): ("event_type", (None,)),
    ("tickets", "empty_required"): ("category", (None,)),
    ("handling_log", "empty_required"): ("action", (None,)),
    # Only columns the contract closes: channels and carriers are open (a new one is real).
    ("orders", "unknown_enum"): ("priority", ("urgent", "加急")),
    ("order_events", "unknown_enum"): ("event_type", ("已发货", "teleported")),
    ("skus", "unknown_enum"): ("status", ("on_sale",)),
    ("tracking_events", "unknown_enum"): ("event_type", ("派件中", "exception")),
    ("tickets", "unknown_enum"): ("category", ("praise",)),
    ("handling_log", "unknown_enum"): ("action", ("called_back",)),
}
EVENT_TIME = {
    "orders": "placed_at",
    "order_events": "event_at",
    "shipments": "created_at",
    "tracking_events": "event_at",
    "tickets": "opened_at",
    "handling_log": "action_at",
    "stock_snapshots": "snapshot_date",
}
UNPARSEABLE = ("2026-13-45 25:61:00", "yesterday", "31/02/2026 10:00", "2026年11月")


@dataclass
class Insertions:
    """Extra rows for one table: each goes into the file of the row it follows."""

    after_row: np.ndarray
    rows: pa.Table  # all columns as strings
    counts: dict[str, int]


def as_text(table: pa.Table) -> pa.Table:
    return table.cast(pa.schema([pa.field(name, pa.string()) for name in table.column_names]))


def _kinds_for(name: str) -> list[str]:
    kinds = [kind for kind in KINDS if (name, kind) in DEFECTS]
    if name in EVENT_TIME:
        kinds += ["unparseable_timestamp", "future_timestamp"]
    return ["duplicate_key", *kinds]  # first, so a copy sits right after its original


def _defect(name: str, kind: str, rows: pa.Table, end_date: dt.date) -> pa.Table:
    count = rows.num_rows
    if kind == "duplicate_key":
        return rows
    if kind in ("unparseable_timestamp", "future_timestamp"):
        column = EVENT_TIME[name]
        if kind == "unparseable_timestamp":
            values = [UNPARSEABLE[i % len(UNPARSEABLE)] for i in range(count)]
        else:  # a clock set a year ahead
            future = dt.datetime.combine(end_date + dt.timedelta(days=400), dt.time(10, 30))
            shape = "%Y-%m-%d" if column == "snapshot_date" else "%Y-%m-%d %H:%M:%S"
            values = [future.strftime(shape)] * count
    else:
        column, choices = DEFECTS[(name, kind)]
        values = [choices[i % len(choices)] for i in range(count)]
    position = rows.column_names.index(column)
    return rows.set_column(position, column, pa.array(values, pa.string()))


def _fake_ids(name: str, rows: pa.Table, start: int) -> pa.Table:
    numbers = pc.cast(pa.array(np.arange(start, start + rows.num_rows)), pa.string())
    for column, prefix in FAKE_IDS[name].items():
        fake = pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, 8, "0"), "")
        if column == "sku":
            fake = pc.binary_join_element_wise(fake, "-STD-BLK", "")
        rows = rows.set_column(rows.column_names.index(column), column, fake)
    return rows


def make_bad_rows(
    rng: np.random.Generator, dated: DatedTable, rate: float, end_date: dt.date
) -> Insertions | None:
    total = dated.table.num_rows
    if rate <= 0 or total == 0:
        return None
    kinds = _kinds_for(dated.name)
    per_kind = max(1, round(rate * total / len(kinds)))
    after_parts, row_parts, counts = [], [], {}
    for kind in kinds:
        after = np.sort(rng.integers(0, total, per_kind))
        rows = as_text(dated.table.take(pa.array(after)))
        if kind != "duplicate_key":
            rows = _fake_ids(dated.name, rows, start=1 + sum(counts.values()))
        after_parts.append(after)
        row_parts.append(_defect(dated.name, kind, rows, end_date))
        counts[kind] = per_kind
    return Insertions(
        after_row=np.concatenate(after_parts), rows=pa.concat_tables(row_parts), counts=counts
    )
