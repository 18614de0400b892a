"""The ground truth: every (order, sub-type) that is observable in the written files.

Computed from what the generator itself decided (its timeline, flags and cells), restricted
to what has happened by the cutoff, following the rules table literally: an injected cause
that implies a second rule (a spoiled stock cell flags every order on it, a late hand-off is
usually a late delivery) is listed under both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.generator import reference as ref
from pipelines.generator.catalogue import Catalogue
from pipelines.generator.exception_types import CODES
from pipelines.generator.feedback import CATEGORIES, Tickets
from pipelines.generator.injection import Injected
from pipelines.generator.lifecycle import (
    DAMAGED,
    DELIVERED,
    LOST,
    NEVER,
    REJECTED,
    RETURNED,
    TERMINAL_EVENTS,
    Timeline,
)
from pipelines.generator.logistics import TRACKING_EVENTS, Scans
from pipelines.generator.orders import HOUR, MINUTE, Lines, Orders, excluded_pairs
from pipelines.generator.replenishment import Replenishments
from pipelines.generator.stock import CELL_KIND_CODES, Snapshots, StockOuts

# The dbt vars in dbt_project/dbt_project.yml the truth must agree with.
PAYMENT_TIMEOUT = 30 * MINUTE
SYNC_DELAY = 30 * MINUTE
MISSING_IN_WMS = 4 * HOUR
TRACKING_STALL = 48 * HOUR
HEAVY_PARCEL_KG = 5.0


@dataclass
class Truth:
    """One entry per (order, sub-type); times in local seconds."""

    order: np.ndarray
    code: np.ndarray  # index into CODES
    observable: np.ndarray


@dataclass
class World:
    """Everything the generator decided, handed to the truth in one piece."""

    orders: Orders
    lines: Lines
    catalogue: Catalogue
    injected: Injected
    timeline: Timeline
    scans: Scans
    snapshots: Snapshots
    cell_of_line: np.ndarray
    stock_outs: StockOuts
    replenishments: Replenishments
    demand: np.ndarray  # (day, item): units expected, the merchant's plan (the promotion included)
    tickets: Tickets
    weight_kg: np.ndarray
    custom_rules: ref.CustomRules
    cutoff: int


def find_truth(world: World) -> Truth:
    found: list[tuple[str, np.ndarray, np.ndarray]] = []
    for code in CODES:
        mask, observable = RULES[code](world)
        found.append((code, mask, observable))
    orders = np.concatenate([np.flatnonzero(mask) for _, mask, _ in found])
    codes = np.concatenate([np.full(int(mask.sum()), CODES.index(code)) for code, mask, _ in found])
    observable = np.concatenate(
        [np.broadcast_to(times, mask.shape)[mask] for _, mask, times in found]
    )
    return Truth(order=orders, code=codes, observable=observable.astype(np.int64))


def _seen(world: World, times: np.ndarray) -> np.ndarray:
    """Happened before the cutoff, so it is in the files."""
    return times < world.cutoff


def _orders_with_lines(world: World, line_mask: np.ndarray) -> np.ndarray:
    mask = np.zeros(len(world.orders), dtype=bool)
    mask[world.lines.order[line_mask]] = True
    return mask


def _merchant_switched_on(world: World, code: str) -> np.ndarray:
    switched_on = [
        int(merchant_id[1:]) - 1 for merchant_id in world.custom_rules.merchants_with.get(code, ())
    ]
    return np.isin(world.orders.merchant, switched_on)


def payment_failed(w: World):
    return _seen(w, w.timeline.payment_failed), w.timeline.payment_failed


def payment_timeout(w: World):
    t, placed = w.timeline, w.orders.placed
    paid_in_time = _seen(w, t.paid) & (t.paid - placed <= PAYMENT_TIMEOUT)
    due = placed + PAYMENT_TIMEOUT
    return ~_seen(w, t.payment_failed) & ~paid_in_time & (due <= w.cutoff), due


def amount_mismatch(w: World):
    return _seen(w, w.timeline.paid) & (w.injected.paid_amount_delta != 0), w.timeline.paid


def refund_before_shipment(w: World):
    t = w.timeline
    shipped_before = _seen(w, t.handed_over) & (t.handed_over < t.refund_requested)
    return _seen(w, t.refund_requested) & ~shipped_before, t.refund_requested


def address_incomplete(w: World):
    return w.injected.address_problem > 0, w.orders.placed


def phone_invalid(w: World):
    mask = np.zeros(len(w.orders), dtype=bool)
    mask[list(w.injected.phone_text)] = True
    return mask, w.orders.placed


def receiver_missing(w: World):
    return w.injected.has("receiver_missing", len(w.orders)), w.orders.placed


def _unknown_lines(w: World, product_known: bool) -> np.ndarray:
    products = set(w.catalogue.product_id.tolist())
    line_mask = np.zeros(len(w.lines), dtype=bool)
    for line, sku in w.injected.unknown_sku_text.items():
        line_mask[line] = (sku.split("-", 1)[0] in products) == product_known
    return line_mask


def sku_unknown(w: World):
    return _orders_with_lines(w, _unknown_lines(w, product_known=False)), w.orders.placed


def variant_unavailable(w: World):
    return _orders_with_lines(w, _unknown_lines(w, product_known=True)), w.orders.placed


def out_of_stock(w: World):
    return _seen(w, w.timeline.stock_out), w.timeline.stock_out


def _cell_rule(kind: int):
    def rule(w: World):
        known = w.cell_of_line >= 0
        line_mask = np.zeros(len(w.lines), dtype=bool)
        line_mask[known] = w.snapshots.kind[w.cell_of_line[known]] == kind
        return _orders_with_lines(w, line_mask), w.orders.placed

    return rule


def sku_discontinued(w: World):
    known = w.lines.sku >= 0
    line_mask = np.zeros(len(w.lines), dtype=bool)
    line_mask[known] = w.catalogue.is_discontinued[w.lines.sku[known]]
    return _orders_with_lines(w, line_mask), w.orders.placed


def late_handoff(w: World):
    t = w.timeline
    handed_seen = _seen(w, t.handed_over)
    late = (handed_seen & (t.handed_over > t.ship_by)) | (~handed_seen & (t.ship_by <= w.cutoff))
    return _seen(w, t.shipment_created) & late, t.ship_by


def delivery_overdue(w: World):
    t = w.timeline
    ended = _seen(w, t.arrival)
    late = (ended & (t.terminal == DELIVERED) & (t.arrival > t.promised)) | (
        ~ended & (t.promised <= w.cutoff)
    )
    return _seen(w, t.shipment_created) & late, t.promised


def tracking_stalled(w: World):
    """First silence over 48 h between written scans, or from the last open scan to the cutoff."""
    scans = w.scans
    seen = scans.at < w.cutoff
    order, at, event = scans.order[seen], scans.at[seen], scans.event[seen]
    terminal = event >= TRACKING_EVENTS.index(TERMINAL_EVENTS[0])
    observable = np.full(len(w.orders), NEVER, dtype=np.int64)
    same_parcel = order[1:] == order[:-1]
    silent = same_parcel & (at[1:] - at[:-1] > TRACKING_STALL)
    np.minimum.at(observable, order[:-1][silent], at[:-1][silent] + TRACKING_STALL)
    last = np.ones(len(order), dtype=bool)
    last[:-1] = ~same_parcel
    open_end = last & ~terminal & (w.cutoff - at > TRACKING_STALL)
    np.minimum.at(observable, order[open_end], at[open_end] + TRACKING_STALL)
    return observable < NEVER, observable


def _terminal_rule(*kinds: int):
    def rule(w: World):
        t = w.timeline
        return _seen(w, t.arrival) & np.isin(t.terminal, kinds), t.arrival

    return rule


def out_of_delivery_range(w: World):
    t, o = w.timeline, w.orders
    excluded = excluded_pairs(w.custom_rules)[o.carrier, o.destination]
    return _seen(w, t.shipment_created) & excluded, t.shipment_created


def _ticket_rule(category: str):
    def rule(w: World):
        tickets = w.tickets
        chosen = (tickets.category == CATEGORIES.index(category)) & (tickets.opened < w.cutoff)
        observable = np.full(len(w.orders), NEVER, dtype=np.int64)
        np.minimum.at(observable, tickets.order[chosen], tickets.opened[chosen])
        return observable < NEVER, observable

    return rule


def sync_delay(w: World):
    t = w.timeline
    return _seen(w, t.wms_received) & (t.wms_received - t.paid > SYNC_DELAY), t.paid + SYNC_DELAY


def duplicate_order(w: World):
    return w.injected.has("duplicate_order", len(w.orders)), w.orders.placed


def missing_in_wms(w: World):
    t = w.timeline
    due = t.paid + MISSING_IN_WMS
    mask = _seen(w, t.paid) & ~_seen(w, t.wms_received) & ~_seen(w, t.cancelled) & (due <= w.cutoff)
    return mask, due


def designated_carrier(w: World):
    return w.injected.designated_carrier >= 0, w.orders.placed


def expedited(w: World):
    return w.injected.is_expedited, w.orders.placed


def special_packaging(w: World):
    return w.injected.special_request >= 0, w.orders.placed


def presale_mixed(w: World):
    lines = w.lines
    any_presale = np.zeros(len(w.orders), dtype=bool)
    any_in_stock = np.zeros(len(w.orders), dtype=bool)
    any_presale[lines.order[lines.is_presale]] = True
    any_in_stock[lines.order[~lines.is_presale]] = True
    return _merchant_switched_on(w, "presale_mixed") & any_presale & any_in_stock, w.orders.placed


def remote_region_note(w: World):
    remote = np.array([row[0] in ref.REMOTE_PROVINCES for row in ref.DESTINATIONS])
    return (
        _merchant_switched_on(w, "remote_region_note") & remote[w.orders.destination],
        w.orders.placed,
    )


def heavy_parcel(w: World):
    return (
        _merchant_switched_on(w, "heavy_parcel") & (w.weight_kg > HEAVY_PARCEL_KG),
        w.orders.placed,
    )


def _by_kind(code: str):
    return _cell_rule(next(kind for kind, name in CELL_KIND_CODES.items() if name == code))


RULES = {
    "payment_failed": payment_failed,
    "payment_timeout": payment_timeout,
    "amount_mismatch": amount_mismatch,
    "refund_before_shipment": refund_before_shipment,
    "address_incomplete": address_incomplete,
    "phone_invalid": phone_invalid,
    "receiver_missing": receiver_missing,
    "sku_unknown": sku_unknown,
    "variant_unavailable": variant_unavailable,
    "out_of_stock": out_of_stock,
    "below_safety_stock": _by_kind("below_safety_stock"),
    "oversold": _by_kind("oversold"),
    "sku_discontinued": sku_discontinued,
    "late_handoff": late_handoff,
    "delivery_overdue": delivery_overdue,
    "tracking_stalled": tracking_stalled,
    "rejected_by_recipient": _terminal_rule(REJECTED),
    "returned_to_sender": _terminal_rule(RETURNED),
    "lost_or_damaged": _terminal_rule(LOST, DAMAGED),
    "out_of_delivery_range": out_of_delivery_range,
    "wrong_item": _ticket_rule("wrong_item"),
    "missing_item": _ticket_rule("missing_item"),
    "sync_delay": sync_delay,
    "duplicate_order": duplicate_order,
    "missing_in_wms": missing_in_wms,
    "stock_mismatch": _by_kind("stock_mismatch"),
    "designated_carrier": designated_carrier,
    "expedited": expedited,
    "special_packaging": special_packaging,
    "presale_mixed": presale_mixed,
    "remote_region_note": remote_region_note,
    "heavy_parcel": heavy_parcel,
}
