"""Carrier tracking: the scans of each parcel from hand-off to its terminal event.

Scans are evenly spread with jitter so that, on a clean parcel, no two consecutive scans are
more than about 42 hours apart (the stall rule fires at 48).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.generator import reference as ref
from pipelines.generator.lifecycle import LOST, NEVER, RETURNED, TERMINAL_EVENTS, Timeline
from pipelines.generator.orders import HOUR, Orders

TRACKING_EVENTS = ("handed_to_carrier", "in_transit", "out_for_delivery", *TERMINAL_EVENTS)
SCAN_SPACING = 30 * HOUR
MAX_IN_TRANSIT = 9
HUB_CITIES = ("上海市", "广州市", "成都市", "天津市", "武汉市", "郑州市", "西安市", "杭州市")


@dataclass
class Scans:
    """One entry per tracking event, shipment-major and in time order within a shipment."""

    order: np.ndarray
    event: np.ndarray  # index into TRACKING_EVENTS
    at: np.ndarray
    location: np.ndarray  # index into the location list below
    locations: tuple[str, ...]


def parcel_scans(rng: np.random.Generator, orders: Orders, timeline: Timeline) -> Scans:
    shipped = np.flatnonzero(timeline.handed_over < NEVER)
    count = len(shipped)
    handed = timeline.handed_over[shipped]
    stall = timeline.stall_seconds[shipped]
    terminal = timeline.terminal[shipped]
    arrival = timeline.arrival[shipped]
    # A returned parcel went out for delivery, failed, and was sent back some hours later.
    base_end = (
        np.where(terminal == RETURNED, arrival - rng.integers(6, 40, count) * HOUR, arrival) - stall
    )
    out_for_delivery = base_end - rng.integers(HOUR, 4 * HOUR, count)
    out_for_delivery = np.maximum(out_for_delivery, handed + HOUR // 2)
    span = out_for_delivery - handed
    in_transit_count = np.clip(np.ceil(span / SCAN_SPACING).astype(np.int64), 1, MAX_IN_TRANSIT)

    columns = 1 + MAX_IN_TRANSIT + 2
    at = np.full((count, columns), NEVER, dtype=np.int64)
    event = np.zeros((count, columns), dtype=np.int8)
    at[:, 0] = handed
    step = span / (in_transit_count + 1)
    for position in range(1, MAX_IN_TRANSIT + 1):
        present = in_transit_count >= position
        jitter = rng.uniform(-0.2, 0.2, count) * step
        at[present, position] = (handed + step * position + jitter)[present].astype(np.int64)
        event[:, position] = 1
    # The stall: silence after the first in-transit scan, everything later shifts.
    at[:, 2:] = np.where(at[:, 2:] < NEVER, at[:, 2:] + stall[:, None], NEVER)
    is_lost = terminal == LOST
    at[:, -2] = np.where(is_lost, NEVER, out_for_delivery + stall)
    event[:, -2] = 2
    at[:, -1] = arrival
    event[:, -1] = 3 + terminal

    keep = at < NEVER
    order = np.repeat(shipped, keep.sum(axis=1))
    locations = tuple(
        dict.fromkeys(
            [w.city for w in ref.WAREHOUSES]
            + list(HUB_CITIES)
            + [row[1] for row in ref.DESTINATIONS]
        )
    )
    location_index = {city: index for index, city in enumerate(locations)}
    origin = np.array([location_index[w.city] for w in ref.WAREHOUSES], dtype=np.int16)[
        orders.warehouse[shipped]
    ]
    destination = np.array([location_index[row[1]] for row in ref.DESTINATIONS], dtype=np.int16)[
        orders.destination[shipped]
    ]
    hubs = np.array([location_index[city] for city in HUB_CITIES], dtype=np.int16)
    location = hubs[rng.integers(0, len(HUB_CITIES), (count, columns), dtype=np.int16)]
    location[:, 0] = origin
    location[:, -2:] = destination[:, None]
    return Scans(
        order=order, event=event[keep], at=at[keep], location=location[keep], locations=locations
    )
