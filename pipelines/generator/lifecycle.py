"""When each step of an order's life happens: payment, WMS, picking, hand-off, delivery.

A clean order goes created -> paid -> wms_received -> allocated -> picked -> shipped and is
delivered before its promised time, with margins that keep every detection rule quiet.
Injected exceptions bend one step; what that bend implies downstream (a late hand-off is
usually also a late delivery) is left to happen, and the truth module records it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.generator import reference as ref
from pipelines.generator.injection import Injected
from pipelines.generator.orders import DAY, HOUR, MINUTE, Orders

NEVER = np.int64(2**62)  # "did not happen": compares later than any real time

DELIVERED, REJECTED, RETURNED, LOST, DAMAGED = range(5)
TERMINAL_EVENTS = ("delivered", "rejected", "returned", "lost", "damaged")


@dataclass
class Timeline:
    """Seconds of local time per order for each step; NEVER where the step does not happen."""

    payment_failed: np.ndarray
    paid: np.ndarray
    wms_received: np.ndarray
    stock_out: np.ndarray
    allocated: np.ndarray
    split: np.ndarray
    picked: np.ndarray
    shipment_created: np.ndarray
    ship_by: np.ndarray
    promised: np.ndarray
    handed_over: np.ndarray
    arrival: np.ndarray  # the terminal tracking event (delivered, rejected, ...)
    terminal: np.ndarray  # index into TERMINAL_EVENTS
    stall_seconds: np.ndarray  # tracking silence inserted after the first in-transit scan
    address_changed: np.ndarray
    cancelled: np.ndarray
    refund_requested: np.ndarray
    refunded: np.ndarray


def _between(rng: np.random.Generator, low: float, high: float, count: int) -> np.ndarray:
    return rng.integers(int(low), int(high), count, dtype=np.int64)


def _never(count: int) -> np.ndarray:
    return np.full(count, NEVER, dtype=np.int64)


def plan_timeline(rng: np.random.Generator, orders: Orders, injected: Injected) -> Timeline:
    count = len(orders)

    def has(code: str) -> np.ndarray:
        return injected.has(code, count)

    placed = orders.placed
    timeline = Timeline(**{name: _never(count) for name in Timeline.__dataclass_fields__})
    timeline.terminal = np.zeros(count, dtype=np.int64)
    timeline.stall_seconds = np.zeros(count, dtype=np.int64)

    _payment(rng, timeline, placed, has)
    _warehouse(rng, timeline, orders, has, injected.restocked_at)
    _delivery(rng, timeline, orders, has)
    _cancellations(rng, timeline, has)
    _after_sales(rng, timeline)
    return timeline


def _payment(rng, timeline: Timeline, placed: np.ndarray, has) -> None:
    count = len(placed)
    # Most pay at once, some think it over; clean orders always pay within 25 minutes.
    quick = rng.random(count) < 0.7
    timeline.paid = placed + np.where(
        quick, _between(rng, 5, 120, count), _between(rng, 120, 25 * MINUTE, count)
    )
    failed = has("payment_failed")
    timeline.payment_failed[failed] = placed[failed] + _between(
        rng, MINUTE, 10 * MINUTE, int(failed.sum())
    )
    retries = rng.random(count) < 0.6
    timeline.paid[failed & retries] = timeline.payment_failed[failed & retries] + _between(
        rng, MINUTE, 20 * MINUTE, int((failed & retries).sum())
    )
    timeline.paid[failed & ~retries] = NEVER
    timeline.cancelled[failed & ~retries] = timeline.payment_failed[failed & ~retries] + _between(
        rng, 20 * MINUTE, 3 * HOUR, int((failed & ~retries).sum())
    )
    timeout = has("payment_timeout")
    late = rng.random(count) < 0.3
    timeline.paid[timeout & late] = placed[timeout & late] + _between(
        rng, 31 * MINUTE, 4 * HOUR, int((timeout & late).sum())
    )
    timeline.paid[timeout & ~late] = NEVER
    timeline.cancelled[timeout & ~late] = placed[timeout & ~late] + _between(
        rng, 31 * MINUTE, 90 * MINUTE, int((timeout & ~late).sum())
    )


def _warehouse(rng, timeline: Timeline, orders: Orders, has, restocked_at: np.ndarray) -> None:
    count = len(orders)
    paid = timeline.paid
    is_paid = paid < NEVER
    wms = paid + _between(rng, 30, 15 * MINUTE, count)
    sync = has("sync_delay")
    wms[sync] = paid[sync] + _between(rng, 35 * MINUTE, 3.5 * HOUR, int(sync.sum()))
    wms[has("missing_in_wms") | ~is_paid] = NEVER
    timeline.wms_received = wms
    reaches_wms = wms < NEVER

    # Orders with wrong data wait until someone fixes it before the warehouse can allocate.
    on_hold = (
        has("address_incomplete")
        | has("phone_invalid")
        | has("receiver_missing")
        | has("sku_unknown")
        | has("variant_unavailable")
        | has("sku_discontinued")
    )
    hold = np.where(on_hold, _between(rng, 20 * MINUTE, 8 * HOUR, count), 0)
    attempt = wms + _between(rng, 2 * MINUTE, HOUR, count) + hold
    fixed = has("address_incomplete") & reaches_wms
    timeline.address_changed[fixed] = attempt[fixed] - _between(
        rng, 60, 10 * MINUTE, int(fixed.sum())
    )
    allocated = attempt.copy()
    stock_out = has("out_of_stock") & reaches_wms
    timeline.stock_out[stock_out] = attempt[stock_out]
    # It waits for the replenishment that covers it, then for the units to be put away.
    allocated[stock_out] = np.maximum(attempt[stock_out], restocked_at[stock_out]) + _between(
        rng, HOUR, 4 * HOUR, int(stock_out.sum())
    )
    allocated[~reaches_wms] = NEVER
    timeline.allocated = allocated

    presale = has("presale_mixed") & reaches_wms
    timeline.split[presale] = allocated[presale] - 60

    expedited = has("expedited")
    pick_time = np.where(
        expedited,
        _between(rng, 10 * MINUTE, 2 * HOUR, count),
        _between(rng, 30 * MINUTE, 8 * HOUR, count),
    )
    pick_time += np.where(has("special_packaging"), HOUR, 0)
    picked = np.where(reaches_wms, allocated + pick_time, NEVER)
    timeline.picked = picked
    created = np.where(reaches_wms, picked + _between(rng, MINUTE, 20 * MINUTE, count), NEVER)
    timeline.shipment_created = created
    handed = created + np.where(
        expedited,
        _between(rng, 10 * MINUTE, HOUR, count),
        _between(rng, 30 * MINUTE, 10 * HOUR, count),
    )
    # Same-day orders must leave within 12 hours of payment, others within 48.
    timeline.ship_by = np.where(
        reaches_wms, paid + np.where(expedited, 12 * HOUR, 48 * HOUR), NEVER
    )
    late = has("late_handoff") & reaches_wms
    handed[late] = timeline.ship_by[late] + _between(rng, HOUR, 30 * HOUR, int(late.sum()))
    handed = np.maximum(handed, created + MINUTE)  # even one that waited for stock
    timeline.handed_over = np.where(reaches_wms, handed, NEVER)


def _promised_days(orders: Orders) -> np.ndarray:
    region_of_warehouse = np.array([REGION_INDEX[w.region] for w in ref.WAREHOUSES])
    destination_region = np.array([REGION_INDEX[row[3]] for row in ref.DESTINATIONS])
    remote = np.array([row[0] in ref.REMOTE_PROVINCES for row in ref.DESTINATIONS])
    same = region_of_warehouse[orders.warehouse] == destination_region[orders.destination]
    days = np.where(same, ref.PROMISED_DAYS_SAME_REGION, ref.PROMISED_DAYS_OTHER_REGION)
    return np.where(remote[orders.destination], ref.PROMISED_DAYS_REMOTE, days)


REGION_INDEX = {region: index for index, region in enumerate(ref.REGIONS)}


def _delivery(rng, timeline: Timeline, orders: Orders, has) -> None:
    count = len(orders)
    shipped = timeline.handed_over < NEVER
    window = _promised_days(orders) * DAY
    timeline.promised = np.where(shipped, timeline.shipment_created + window, NEVER)
    # Clean parcels arrive with a margin: at most 80% of the promise after a 12 h hand-off,
    # which leaves room to move a night-time arrival to the next morning.
    transit = (rng.uniform(0.35, 0.8, count) * (window - 12 * HOUR)).astype(np.int64)
    arrival = timeline.handed_over + transit
    overdue = has("delivery_overdue")
    arrival[overdue] = timeline.promised[overdue] + _between(
        rng, 2 * HOUR, 72 * HOUR, int(overdue.sum())
    )
    stalled = has("tracking_stalled")
    timeline.stall_seconds[stalled] = _between(rng, 50 * HOUR, 120 * HOUR, int(stalled.sum()))
    arrival += timeline.stall_seconds
    arrival = _in_daytime(rng, arrival)
    timeline.terminal[has("rejected_by_recipient")] = REJECTED
    timeline.terminal[has("returned_to_sender")] = RETURNED
    lost_or_damaged = has("lost_or_damaged")
    timeline.terminal[lost_or_damaged] = np.where(
        rng.random(int(lost_or_damaged.sum())) < 0.5, LOST, DAMAGED
    )
    timeline.arrival = np.where(shipped, arrival, NEVER)


def _in_daytime(rng, arrival: np.ndarray) -> np.ndarray:
    """Couriers deliver between 08:00 and 21:00: later arrivals move to the next morning."""
    time_of_day = arrival % DAY
    morning = _between(rng, 8 * HOUR, 10 * HOUR, len(arrival))
    return np.where(
        time_of_day < 8 * HOUR,
        arrival - time_of_day + morning,
        np.where(time_of_day >= 21 * HOUR, arrival - time_of_day + DAY + morning, arrival),
    )


def _cancellations(rng, timeline: Timeline, has) -> None:
    """Cancelled orders stop: no later warehouse step, and a refund if they were paid."""
    count = len(timeline.paid)
    in_wms = timeline.wms_received < NEVER
    # Before the waybill is printed: somewhere between WMS receipt and the shipment.
    before_shipment = timeline.wms_received + (
        rng.uniform(0.1, 0.9, count) * (timeline.shipment_created - timeline.wms_received)
    ).astype(np.int64)
    refund_first = has("refund_before_shipment") & in_wms
    timeline.refund_requested[refund_first] = before_shipment[refund_first]
    # The cancellation that follows also comes before the waybill, so nothing ships.
    cancel_after_refund = before_shipment + (
        rng.uniform(0.2, 0.9, count) * (timeline.shipment_created - before_shipment)
    ).astype(np.int64)
    cancel_at = np.where(refund_first, cancel_after_refund, NEVER)
    gives_up = in_wms & (
        has("duplicate_order")
        | (
            (has("address_incomplete") | has("phone_invalid") | has("receiver_missing"))
            & (rng.random(count) < 0.1)
        )
        | ((has("sku_unknown") | has("variant_unavailable")) & (rng.random(count) < 0.2))
        | ((has("sku_discontinued") | has("out_of_stock")) & (rng.random(count) < 0.5))
    )
    # Ordinary customers change their mind too (about 1%), not an exception.
    clean_change_of_mind = in_wms & (rng.random(count) < 0.01) & ~has("missing_in_wms")
    stop = (gives_up | clean_change_of_mind) & ~refund_first
    stop_at = np.where(
        has("out_of_stock"),
        timeline.stock_out + _between(rng, HOUR, 6 * HOUR, count),
        before_shipment,
    )
    cancel_at = np.where(stop, stop_at, cancel_at)
    timeline.cancelled = np.minimum(timeline.cancelled, cancel_at)
    cancelled = timeline.cancelled < NEVER
    for step in (
        "stock_out",
        "allocated",
        "split",
        "picked",
        "shipment_created",
        "ship_by",
        "promised",
        "handed_over",
        "arrival",
        "address_changed",
    ):
        times = getattr(timeline, step)
        if step in ("ship_by", "promised", "arrival"):
            times[cancelled & (timeline.shipment_created > timeline.cancelled)] = NEVER
        else:
            times[cancelled & (times > timeline.cancelled)] = NEVER
    timeline.ship_by[timeline.shipment_created == NEVER] = NEVER
    timeline.promised[timeline.shipment_created == NEVER] = NEVER
    timeline.arrival[timeline.handed_over == NEVER] = NEVER
    refunds = cancelled & (timeline.paid < timeline.cancelled)
    timeline.refunded[refunds] = timeline.cancelled[refunds] + _between(
        rng, MINUTE, HOUR, int(refunds.sum())
    )


def _after_sales(rng, timeline: Timeline) -> None:
    """About 1.5% of delivered parcels come back as a return: refund after shipment, clean."""
    count = len(timeline.paid)
    delivered = (timeline.arrival < NEVER) & (timeline.terminal == DELIVERED)
    returns = delivered & (rng.random(count) < 0.015) & (timeline.refund_requested == NEVER)
    timeline.refund_requested[returns] = timeline.arrival[returns] + _between(
        rng, DAY, 5 * DAY, int(returns.sum())
    )
    timeline.refunded[returns] = timeline.refund_requested[returns] + _between(
        rng, HOUR, 48 * HOUR, int(returns.sum())
    )
