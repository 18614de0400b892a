"""Which orders are more likely to leave or arrive late: the signal a risk model can learn.

Real lateness is not spread evenly. A warehouse short of pickers hands parcels over late, more
so the days after a promotion and over the weekend; a carrier is slower on some routes, and a
remote province or another region takes longer. Late hand-offs and overdue deliveries are drawn
with these weights (the other exceptions stay uniform), so the carrier x route late rates that
a manager would see differ, and an order's risk can be told from what is known when it is paid.
"""

from __future__ import annotations

import numpy as np

from pipelines.generator import reference as ref
from pipelines.generator.orders import DAY, Calendar, Orders, local_seconds

# Hand-off: the warehouse's picking capacity and the carrier's pickup rounds.
HANDOFF_BY_WAREHOUSE = {"WH-SH01": 0.6, "WH-GZ01": 1.0, "WH-CD01": 2.4, "WH-TJ01": 1.3}
HANDOFF_BY_CARRIER = {"sf": 0.6, "zto": 1.0, "yto": 1.3, "jd_logistics": 0.6, "ems": 1.9}
HANDOFF_BY_WEEKDAY = (1.0, 0.9, 0.9, 1.0, 1.8, 2.0, 1.4)  # Monday first: weekend pickups are thin
# Delivery: the carrier's network, and where it is weak.
DELIVERY_BY_CARRIER = {"sf": 0.45, "zto": 1.0, "yto": 1.4, "jd_logistics": 0.55, "ems": 2.0}
WEAK_REGIONS = {("yto", "west"): 2.5, ("zto", "north"): 1.8, ("ems", "south"): 1.6}
REMOTE_FACTOR = 3.5
OTHER_REGION_FACTOR = 1.7
# After a promotion the backlog takes days to clear: days after the promotion day, by factor.
PEAK_HANDOFF = {-1: 2.0, 0: 5.0, 1: 4.0, 2: 2.5, 3: 1.5}
PEAK_DELIVERY = {-1: 1.5, 0: 3.5, 1: 3.5, 2: 2.5, 3: 1.8, 4: 1.3}


def _table(values: dict[str, float], names: tuple[str, ...]) -> np.ndarray:
    return np.array([values[name] for name in names])


def _peak_factor(orders: Orders, calendar: Calendar, by_distance: dict[int, float]) -> np.ndarray:
    distance = (orders.placed - local_seconds(calendar.promotion_day)) // DAY
    factor = np.ones(len(orders))
    for days_after, value in by_distance.items():
        factor[distance == days_after] = value
    return factor


def _weekday(orders: Orders) -> np.ndarray:
    return (orders.placed // DAY + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0


def handoff_weights(orders: Orders, calendar: Calendar) -> np.ndarray:
    """Relative chance of each order being handed to the carrier after its ship-by time."""
    warehouse_ids = tuple(w.warehouse_id for w in ref.WAREHOUSES)
    return (
        _table(HANDOFF_BY_WAREHOUSE, warehouse_ids)[orders.warehouse]
        * _table(HANDOFF_BY_CARRIER, ref.CARRIERS)[orders.carrier]
        * np.asarray(HANDOFF_BY_WEEKDAY)[_weekday(orders)]
        * _peak_factor(orders, calendar, PEAK_HANDOFF)
    )


def delivery_weights(orders: Orders, calendar: Calendar) -> np.ndarray:
    """Relative chance of each order's parcel arriving after the promised time."""
    regions = tuple(ref.REGIONS)
    warehouse_region = np.array([regions.index(w.region) for w in ref.WAREHOUSES])
    destination_region = np.array([regions.index(row[3]) for row in ref.DESTINATIONS])
    remote = np.array([row[0] in ref.REMOTE_PROVINCES for row in ref.DESTINATIONS])
    weak = np.ones((len(ref.CARRIERS), len(regions)))
    for (carrier, region), factor in WEAK_REGIONS.items():
        weak[ref.CARRIERS.index(carrier), regions.index(region)] = factor
    to_region = destination_region[orders.destination]
    route = np.where(
        remote[orders.destination],
        REMOTE_FACTOR,
        np.where(warehouse_region[orders.warehouse] == to_region, 1.0, OTHER_REGION_FACTOR),
    )
    return (
        _table(DELIVERY_BY_CARRIER, ref.CARRIERS)[orders.carrier]
        * weak[orders.carrier, to_region]
        * route
        * _peak_factor(orders, calendar, PEAK_DELIVERY)
    )


WEIGHTS = {"late_handoff": handoff_weights, "delivery_overdue": delivery_weights}


def weighted_sample(
    rng: np.random.Generator, candidates: np.ndarray, weights: np.ndarray, count: int
) -> np.ndarray:
    """count candidates drawn without replacement, each with chance ~ its weight.

    Efraimidis-Spirakis keys (log u / w, the largest kept) in one vectorised pass: numpy's
    weighted choice without replacement is much slower at ten million candidates."""
    keys = np.log(rng.random(len(candidates))) / weights
    if count >= len(candidates):
        return candidates
    return candidates[np.argpartition(-keys, count - 1)[:count]]
