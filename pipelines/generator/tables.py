"""Turn the generator's arrays into Arrow tables with exactly the contract's columns.

Each table comes with `day`: the Asia/Shanghai day (days since 1970-01-01) of the row's event
time, which decides the file it is written to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.contract import load_contract
from pipelines.generator import reference as ref
from pipelines.generator.catalogue import Catalogue
from pipelines.generator.exception_types import CODES
from pipelines.generator.feedback import CATEGORIES, CONTENT_TEXTS, TICKET_CHANNELS, Tickets
from pipelines.generator.handling import ACTIONS, RESOLUTIONS, TEAMS, Actions, handler_names
from pipelines.generator.injection import SPECIAL_REQUESTS
from pipelines.generator.logistics import TRACKING_EVENTS
from pipelines.generator.orders import DAY
from pipelines.generator.stock import Snapshots
from pipelines.generator.truth import World

CHANNEL_ORDER_PREFIX = ("", "", "PDD", "", "WEB")
CHANNEL_ORDER_BASE = (
    3_100_000_000_000_000_000,
    290_000_000_000,
    251_000_000_000_000,
    6_900_000_000_000_000_000,
    100_000_000_000,
)
CARRIER_WAYBILL_PREFIX = ("SF", "ZT", "YT", "JDX", "EM")
CARRIER_WAYBILL_BASE = (
    1_400_000_000_000,
    73_000_000_000_000,
    8_800_000_000_000,
    5_000_000_000_000,
    9_870_000_000_000,
)
CANCEL_REASONS = (
    "买家取消",
    "超时未支付，系统自动关闭",
    "支付失败，订单关闭",
    "重复订单，作废",
    "缺货取消",
    "信息有误，联系不上买家",
    "买家申请退款",
)
DETAIL_TEXTS = (
    "余额不足，支付失败",
    "收货地址已修改",
    "预售商品拆单发货",
    "买家申请退款",
    "已原路退款",
    *CANCEL_REASONS,
)


@dataclass
class DatedTable:
    name: str
    table: pa.Table
    day: np.ndarray  # per row: Asia/Shanghai day number; rows are sorted by it


def text(values, index: np.ndarray) -> pa.Array:
    return pa.array(list(values), pa.string()).take(pa.array(index))


def labels(values, index: np.ndarray) -> pa.DictionaryArray:
    """Like text(), dictionary-encoded: big tables stay small until a day's file is written."""
    return refer(pa.array(list(values), pa.string()), index)


def refer(dictionary: pa.Array, index: np.ndarray) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(index.astype(np.int32)), dictionary)


ID_CHUNK_ROWS = 2_000_000  # keeps each string chunk far below Arrow's 2 GB limit at 10M orders


def numbered(prefix: str, numbers: np.ndarray, width: int) -> pa.ChunkedArray:
    """Ids like 'OE00000000042', built in chunks."""
    chunks = []
    for start in range(0, max(len(numbers), 1), ID_CHUNK_ROWS):
        part = pa.array(numbers[start : start + ID_CHUNK_ROWS])
        digits = pc.utf8_lpad(pc.cast(part, pa.string()), width, "0")
        chunks.append(pc.binary_join_element_wise(prefix, digits, ""))
    return pa.chunked_array(chunks, pa.string())


def timestamps(seconds: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(seconds, pa.timestamp("s"), mask=missing)


def money(cents: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Cents as decimal(14,2), built from the unscaled 128-bit integers."""
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63
    validity = None
    null_count = 0
    if missing is not None and missing.any():
        validity = pa.array(~missing).buffers()[1]
        null_count = int(missing.sum())
    return pa.Array.from_buffers(
        pa.decimal128(14, 2), len(cents), [validity, pa.py_buffer(words.tobytes())], null_count
    )


def blank(array: pa.Array, mask: np.ndarray) -> pa.Array:
    """Empty where mask is set (exports write an empty cell)."""
    return pc.if_else(pa.array(mask), pa.scalar(None, array.type), array)


def _table(name: str, columns: dict[str, pa.Array], day: np.ndarray) -> DatedTable:
    """The contract's table, rows in day order (a copy only when they are not already)."""
    expected = load_contract()[name].column_names
    assert list(columns) == expected, f"{name}: {list(columns)} != {expected}"
    table = pa.table(columns)
    if len(day) and (np.diff(day) < 0).any():
        order = np.argsort(day, kind="stable")
        return DatedTable(name, table.take(pa.array(order)), day[order])
    return DatedTable(name, table, day)


def order_ids(world: World) -> pa.Array:
    """SO + 10 digits, numbered in order of placing."""
    rank = np.empty(len(world.orders), dtype=np.int64)
    rank[np.argsort(world.orders.placed, kind="stable")] = np.arange(len(world.orders))
    return numbered("SO", rank + 1, 10).combine_chunks()


def orders_table(world: World, ids: pa.Array, merchant_ids: list[str]) -> DatedTable:
    o, injected, t = world.orders, world.injected, world.timeline
    amount = np.zeros(len(o), dtype=np.int64)
    line_price = world.catalogue.price_cents[np.maximum(world.lines.sku, 0)]
    np.add.at(amount, world.lines.order, line_price * world.lines.quantity)
    paid_seen = t.paid < world.cutoff
    platform_no = pc.binary_join_element_wise(
        text(CHANNEL_ORDER_PREFIX, o.channel),
        pc.cast(
            pa.array(np.array(CHANNEL_ORDER_BASE)[o.channel] + o.platform_number * 97), pa.string()
        ),
        "",
    )
    receiver = pc.binary_join_element_wise(
        text(ref.SURNAMES, o.surname), text(ref.GIVEN_NAMES, o.given_name), ""
    )
    phone = pc.cast(pa.array(o.phone), pa.string())
    if injected.phone_text:
        positions = np.array(sorted(injected.phone_text))
        values = [injected.phone_text[p] or None for p in positions.tolist()]
        mask = np.zeros(len(o), dtype=bool)
        mask[positions] = True
        phone = pc.replace_with_mask(phone, pa.array(mask), pa.array(values, pa.string()))
    destination = np.array(ref.DESTINATIONS, dtype=object)
    problem = injected.address_problem
    columns = {
        "order_id": ids,
        "platform_order_no": platform_no,
        "merchant_id": text(merchant_ids, o.merchant),
        "merchant_name": text(ref.MERCHANT_NAMES, o.merchant),
        "shop_id": pc.binary_join_element_wise(
            text(merchant_ids, o.merchant), text(ref.CHANNEL_SHOP_CODES, o.channel), "-"
        ),
        "channel": text(ref.CHANNELS, o.channel),
        "warehouse_id": text([w.warehouse_id for w in ref.WAREHOUSES], o.warehouse),
        "placed_at": timestamps(o.placed),
        "paid_at": timestamps(t.paid, ~paid_seen),
        "order_amount": money(amount),
        "paid_amount": money(amount + injected.paid_amount_delta, ~paid_seen),
        "receiver_name": blank(receiver, injected.has("receiver_missing", len(o))),
        "receiver_phone": phone,
        "province": text(destination[:, 0], o.destination),
        "city": blank(text(destination[:, 1], o.destination), problem == 3),
        "district": blank(text(destination[:, 2], o.destination), problem == 2),
        "address": _addresses(o, problem),
        "priority": text(("normal", "high"), o.priority_high.astype(np.int64)),
        "designated_carrier": blank(
            text(ref.CARRIERS, np.maximum(injected.designated_carrier, 0)),
            injected.designated_carrier < 0,
        ),
        "is_expedited": pa.array(injected.is_expedited),
        "special_request": blank(
            text(SPECIAL_REQUESTS, np.maximum(injected.special_request, 0)),
            injected.special_request < 0,
        ),
        "weight_kg": pa.array(world.weight_kg),
        "payment_method": _payment_methods(o),
        "country": text(("CN",), np.zeros(len(o), dtype=np.int64)),
        "currency": text(("CNY",), np.zeros(len(o), dtype=np.int64)),
    }
    return _table("orders", columns, o.placed // DAY)


def _payment_methods(o) -> pa.Array:
    """The channel's usual ways to pay, one per order by its platform number (no draw from the
    seeded stream, so every other column stays as it was)."""
    choice = o.platform_number % len(ref.PAYMENT_METHODS[0])
    flat = [method for methods in ref.PAYMENT_METHODS for method in methods]
    return text(flat, o.channel * len(ref.PAYMENT_METHODS[0]) + choice)


def _addresses(o, problem: np.ndarray) -> pa.Array:
    """'建设路88号阳光花园3栋502室'; without house number the text has no digit at all."""
    street = text(ref.STREETS, o.street)
    compound = text(ref.COMPOUNDS, o.compound)
    full = pc.binary_join_element_wise(
        street,
        pc.cast(pa.array(o.house_number), pa.string()),
        "号",
        compound,
        pc.cast(pa.array(o.building), pa.string()),
        "栋",
        pc.cast(pa.array(o.room), pa.string()),
        "室",
        "",
    )
    no_number = pc.binary_join_element_wise(street, compound, "附近", "")
    return pc.if_else(pa.array(problem == 1), no_number, full)


def sku_texts(world: World) -> pa.Array:
    lines = world.lines
    skus = pa.array(world.catalogue.sku.tolist(), pa.string()).take(
        pa.array(np.maximum(lines.sku, 0))
    )
    if world.injected.unknown_sku_text:
        positions = np.array(sorted(world.injected.unknown_sku_text))
        mask = np.zeros(len(lines), dtype=bool)
        mask[positions] = True
        values = [world.injected.unknown_sku_text[p] for p in positions.tolist()]
        skus = pc.replace_with_mask(skus, pa.array(mask), pa.array(values, pa.string()))
    return skus


def order_lines_table(world: World, ids: pa.Array) -> DatedTable:
    lines = world.lines
    columns = {
        "order_id": refer(ids, lines.order),
        "line_number": pa.array(lines.line_number.astype(np.int32)),
        "sku": sku_texts(world),
        "quantity": pa.array(lines.quantity.astype(np.int32)),
        "unit_price": money(world.catalogue.price_cents[np.maximum(lines.sku, 0)]),
        "is_presale": pa.array(lines.is_presale),
    }
    return _table("order_lines", columns, world.orders.placed[lines.order] // DAY)


def order_events_table(world: World, ids: pa.Array) -> DatedTable:
    t, cutoff = world.timeline, world.cutoff
    event_types = load_contract()["order_events"].column("event_type").accepted_values
    stock_out_sku = np.maximum(world.injected.stock_out_sku, 0)
    cancel_reason = _cancel_reasons(world)
    sources = {
        "created": (world.orders.placed, None),
        "paid": (t.paid, None),
        "payment_failed": (t.payment_failed, 0),
        "address_changed": (t.address_changed, 1),
        "wms_received": (t.wms_received, None),
        "stock_out": (t.stock_out, len(DETAIL_TEXTS) + stock_out_sku),
        "allocated": (t.allocated, None),
        "split": (t.split, 2),
        "picked": (t.picked, None),
        "shipped": (t.handed_over, None),
        "cancelled": (t.cancelled, 5 + cancel_reason),
        "refund_requested": (t.refund_requested, 3),
        "refunded": (t.refunded, 4),
    }
    order_parts, at_parts, type_parts, detail_parts = [], [], [], []
    for type_index, event_type in enumerate(event_types):
        times, detail = sources[event_type]
        happened = np.flatnonzero(times < cutoff)
        order_parts.append(happened)
        at_parts.append(times[happened])
        type_parts.append(np.full(len(happened), type_index, dtype=np.int8))
        detail_parts.append(
            np.full(len(happened), -1)
            if detail is None
            else np.broadcast_to(detail, times.shape)[happened]
        )
    at = np.concatenate(at_parts)
    del at_parts
    chronological = np.argsort(at, kind="stable")
    at = at[chronological]
    order = np.concatenate(order_parts).astype(np.int32)[chronological]
    event_type = np.concatenate(type_parts)[chronological]
    detail = np.concatenate(detail_parts).astype(np.int32)[chronological]
    del order_parts, type_parts, detail_parts, chronological
    dictionary = pa.array([*DETAIL_TEXTS, *world.catalogue.sku.tolist()], pa.string())
    columns = {
        "event_id": numbered("OE", np.arange(1, len(at) + 1), 11),
        "order_id": refer(ids, order),
        "event_type": labels(event_types, event_type),
        "event_at": timestamps(at),
        "detail": pa.DictionaryArray.from_arrays(
            pa.array(np.maximum(detail, 0).astype(np.int32), mask=detail < 0), dictionary
        ),
    }
    return _table("order_events", columns, at // DAY)


def _cancel_reasons(world: World) -> np.ndarray:
    """Index into CANCEL_REASONS, by what made the order stop."""
    count = len(world.orders)
    has = world.injected.has
    reason = np.zeros(count, dtype=np.int64)
    reason[has("payment_timeout", count)] = 1
    reason[has("payment_failed", count)] = 2
    reason[has("duplicate_order", count)] = 3
    reason[has("out_of_stock", count) | has("sku_discontinued", count)] = 4
    for code in ("address_incomplete", "phone_invalid", "receiver_missing"):
        reason[has(code, count)] = 5
    reason[world.timeline.refund_requested < world.timeline.cancelled] = 6
    return reason


def shipments_table(world: World, ids: pa.Array) -> tuple[DatedTable, pa.Array]:
    """The shipments, and every order's tracking number (null where none)."""
    t, o = world.timeline, world.orders
    shipped = np.flatnonzero(t.shipment_created < world.cutoff)
    shipped = shipped[np.argsort(t.shipment_created[shipped], kind="stable")]  # as printed
    sequence = np.zeros(len(o), dtype=np.int64)
    sequence[shipped] = np.arange(1, len(shipped) + 1)
    waybill_numbers = np.array(CARRIER_WAYBILL_BASE)[o.carrier] + sequence * 31
    tracking = pc.binary_join_element_wise(
        text(CARRIER_WAYBILL_PREFIX, o.carrier), pc.cast(pa.array(waybill_numbers), pa.string()), ""
    )
    columns = {
        "shipment_id": numbered("SP", sequence[shipped], 10),
        "order_id": ids.take(pa.array(shipped)),
        "carrier": text(ref.CARRIERS, o.carrier[shipped]),
        "tracking_number": tracking.take(pa.array(shipped)),
        "created_at": timestamps(t.shipment_created[shipped]),
        "ship_by_at": timestamps(t.ship_by[shipped]),
        "promised_delivery_at": timestamps(t.promised[shipped]),
    }
    return _table("shipments", columns, t.shipment_created[shipped] // DAY), tracking


def tracking_events_table(world: World, tracking: pa.Array) -> DatedTable:
    scans = world.scans
    seen = np.flatnonzero(scans.at < world.cutoff)
    chronological = seen[np.argsort(scans.at[seen], kind="stable")]
    columns = {
        "event_id": numbered("TE", np.arange(1, len(seen) + 1), 11),
        "tracking_number": refer(tracking, scans.order[chronological]),
        "event_type": labels(TRACKING_EVENTS, scans.event[chronological]),
        "event_at": timestamps(scans.at[chronological]),
        "location": labels(scans.locations, scans.location[chronological]),
    }
    day = scans.at[chronological] // DAY
    return _table("tracking_events", columns, day)


def tickets_table(world: World, ids: pa.Array, tickets: Tickets) -> DatedTable:
    seen = np.flatnonzero(tickets.opened < world.cutoff)
    chosen = seen[np.argsort(tickets.opened[seen], kind="stable")]
    resolved = tickets.resolved[chosen]
    columns = {
        "ticket_id": numbered("TK", np.arange(1, len(chosen) + 1), 9),
        "order_id": ids.take(pa.array(tickets.order[chosen])),
        "channel": text(TICKET_CHANNELS, tickets.channel[chosen]),
        "category": text(CATEGORIES, tickets.category[chosen]),
        "rating": pa.array(
            tickets.rating[chosen].astype(np.int32), mask=tickets.rating[chosen] == 0
        ),
        "content": text(CONTENT_TEXTS, tickets.content[chosen]),
        "opened_at": timestamps(tickets.opened[chosen]),
        "resolved_at": timestamps(resolved, resolved >= world.cutoff),
    }
    day = tickets.opened[chosen] // DAY
    return _table("tickets", columns, day)


def handling_log_table(ids: pa.Array, actions: Actions) -> DatedTable:
    columns = {
        "action_id": numbered("HA", np.arange(1, len(actions.at) + 1), 9),
        "order_id": ids.take(pa.array(actions.order)),
        "exception_type": text(CODES, actions.code),
        "action": text(ACTIONS, actions.action),
        "action_at": timestamps(actions.at),
        "team": text(TEAMS, actions.team),
        "handler": text(handler_names(), actions.handler),
        "resolution": blank(
            text(RESOLUTIONS, np.maximum(actions.resolution, 0)), actions.resolution < 0
        ),
    }
    day = actions.at // DAY
    return _table("handling_log", columns, day)


def skus_table(catalogue: Catalogue, merchant_ids: list[str], end_day: int) -> DatedTable:
    columns = {
        "sku": pa.array(catalogue.sku.tolist(), pa.string()),
        "product_id": pa.array(catalogue.product_id.tolist(), pa.string()),
        "merchant_id": text(merchant_ids, catalogue.merchant_index),
        "product_name": pa.array(catalogue.product_name.tolist(), pa.string()),
        "size": pa.array(catalogue.size.tolist(), pa.string()),
        "colour": pa.array(catalogue.colour_name.tolist(), pa.string()),
        "weight_kg": pa.array(catalogue.weight_grams / 1000.0),
        "status": text(("active", "discontinued"), catalogue.is_discontinued.astype(np.int64)),
    }
    return _table("skus", columns, np.full(len(catalogue), end_day))


def stock_snapshots_table(snapshots: Snapshots, catalogue: Catalogue, first_day: int) -> DatedTable:
    day = first_day + snapshots.day
    columns = {
        "snapshot_date": pa.array(day.astype(np.int32)).cast(pa.date32()),
        "warehouse_id": text([w.warehouse_id for w in ref.WAREHOUSES], snapshots.warehouse),
        "sku": pa.array(catalogue.sku.tolist(), pa.string()).take(pa.array(snapshots.sku)),
        "on_hand": pa.array(snapshots.on_hand.astype(np.int32)),
        "allocated": pa.array(snapshots.allocated.astype(np.int32)),
        "available": pa.array(snapshots.available.astype(np.int32)),
        "safety_stock": pa.array(snapshots.safety_stock.astype(np.int32)),
        "platform_available": pa.array(snapshots.platform_available.astype(np.int32)),
        "in_transit_qty": pa.array(snapshots.in_transit.astype(np.int32)),
        "expected_arrival_date": pa.array(
            (first_day + snapshots.expected_arrival_day).astype(np.int32),
            mask=snapshots.expected_arrival_day < 0,
        ).cast(pa.date32()),
    }
    return _table("stock_snapshots", columns, day)
