"""Each (warehouse, SKU) item's stock over the days: what orders take, what replenishments bring.

Units leave available stock when an order is placed (拍下减库存, as most shops set it). A line
that finds fewer units than it asks for is out of stock: its units stay owed, available goes
below zero, and the line waits for the replenishment that covers it (first come, first
served). Every night the merchant reviews each item: once available plus what is already on
order has fallen to the reorder point, a replenishment is ordered up to the reorder point plus
a lot. It arrives during the working day, the item's lead time later (seed
replenishment_lead_times: a warehouse default, overridden per SKU); about one in five arrives
2-6 days late.

Most items are provisioned well: the reorder point holds the demand of twice the lead time
plus the worst lateness, the promotion the merchant plans for included, so they never run
short. A minority of steady sellers are provisioned too tightly (a reorder point below
the demand over the lead time, small lots, a thin safety stock, no allowance for the
promotion): they run out, and the orders that hit them then are the out_of_stock orders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.generator.orders import DAY, HOUR, Calendar, daily_weights

LATE_SHARE = 0.22  # replenishments that arrive late...
LATE_DAYS = (2, 6)  # ...by this many days, both ends included
RECEIVING_HOURS = (9, 17)  # a replenishment is received and put away within the working day
HEALTHY_COVER_Z = 4.0  # standard deviations of demand a healthy reorder point holds on top
# A line's quantity is 1-5 units (E[q]=1.31, E[q^2]=2.25): demand in units varies more than a
# Poisson count, by E[q^2]/E[q].
UNITS_DISPERSION = 2.25 / 1.31
HEALTHY_LOT_DAYS = 14
TIGHT_REORDER_SHARE = (0.7, 0.95)  # of the demand over the lead time
TIGHT_LOT_DAYS = (10, 20)
TIGHT_SAFETY_DAYS = (1.0, 3.0)
# Tight items are drawn from the steady middle of the range: the top sellers get the
# planner's attention, the long tail sells too rarely to run out visibly.
TIGHT_DEMAND_QUANTILES = (0.4, 0.9)
NEVER = np.int64(2**62)


@dataclass
class Items:
    """One entry per (warehouse, SKU) item, item = warehouse * sku_count + sku."""

    lead_days: np.ndarray
    daily_demand: np.ndarray  # mean units a day over the period: the merchant's sales plan
    is_active: np.ndarray  # on sale (discontinued SKUs are not replenished)

    def __len__(self) -> int:
        return len(self.lead_days)


@dataclass
class Draws:
    """Everything random about an item, drawn once for every item so that one item's path
    never depends on which other items are provisioned tightly."""

    late_days: np.ndarray  # (day ordered, item): 0 when the replenishment is on time
    arrival_second: np.ndarray  # (day ordered, item): second of the arrival day
    tight_reorder_share: np.ndarray  # per item
    tight_lot_days: np.ndarray
    tight_safety_days: np.ndarray
    healthy_safety: np.ndarray
    opening_share: np.ndarray  # where in its cycle the item starts


@dataclass
class Policy:
    reorder_point: np.ndarray  # (day, item) units; -1 never reorders
    lot: np.ndarray  # (day, item) units ordered beyond the reorder point
    safety_stock: np.ndarray  # per item, as the WMS records it
    opening: np.ndarray  # per item: available on the first morning


@dataclass
class Replenishments:
    item: np.ndarray
    ordered_day: np.ndarray  # the day (from 0) whose night review ordered it
    due: np.ndarray  # local seconds: when it would have arrived on time
    arrives: np.ndarray  # local seconds

    @property
    def is_late(self) -> np.ndarray:
        return self.arrives > self.due


@dataclass
class Trajectory:
    morning: np.ndarray  # (day, item): available at 00:00, what the day's snapshot shows
    replenishments: Replenishments
    units_in: np.ndarray  # per replenishment


def draw(rng: np.random.Generator, days: int, item_count: int) -> Draws:
    shape = (days, item_count)
    late = rng.random(shape) < LATE_SHARE
    return Draws(
        late_days=np.where(late, rng.integers(LATE_DAYS[0], LATE_DAYS[1] + 1, shape), 0),
        arrival_second=rng.integers(RECEIVING_HOURS[0] * HOUR, RECEIVING_HOURS[1] * HOUR, shape),
        tight_reorder_share=rng.uniform(*TIGHT_REORDER_SHARE, item_count),
        tight_lot_days=rng.uniform(*TIGHT_LOT_DAYS, item_count),
        tight_safety_days=rng.uniform(*TIGHT_SAFETY_DAYS, item_count),
        healthy_safety=rng.integers(5, 40, item_count),
        opening_share=rng.uniform(0.3, 1.0, item_count),
    )


def demand_outlook(items: Items, calendar: Calendar, days: int, ahead: int) -> np.ndarray:
    """Expected units per (day, item), the promotion included, for the days and `ahead` more:
    what a merchant who plans well expects. Beyond the period, the last week repeats."""
    weights = daily_weights(calendar, days)
    factor = weights / weights.mean()
    beyond = np.resize(factor[-7:], ahead)
    return np.outer(np.concatenate([factor, beyond]), items.daily_demand)


def _window_sums(outlook: np.ndarray, days: int, length: np.ndarray) -> np.ndarray:
    """Per (day, item): expected units of the `length` days after each day."""
    cumulative = np.vstack([np.zeros(outlook.shape[1]), np.cumsum(outlook, axis=0)])
    day = np.arange(days)[:, None]
    columns = np.arange(outlook.shape[1])[None, :]
    return cumulative[day + 1 + length[None, :], columns] - cumulative[day + 1, columns]


def plan_policy(
    items: Items, draws: Draws, tight: np.ndarray, calendar: Calendar, days: int
) -> Policy:
    lead = items.lead_days
    healthy_window = 2 * lead + LATE_DAYS[1]
    outlook = demand_outlook(items, calendar, days, int(healthy_window.max()) + HEALTHY_LOT_DAYS)
    window = _window_sums(outlook, days, healthy_window)
    safety = np.where(
        tight,
        np.maximum(1, np.round(items.daily_demand * draws.tight_safety_days)),
        draws.healthy_safety,
    ).astype(np.int64)
    healthy_point = safety + window + HEALTHY_COVER_Z * np.sqrt(window * UNITS_DISPERSION) + 1
    healthy_lot = np.maximum(_window_sums(outlook, days, np.full(len(items), HEALTHY_LOT_DAYS)), 2)
    # Too tight: a flat plan (no weekly rhythm, no promotion) below the lead time's demand.
    tight_point = items.daily_demand * lead * draws.tight_reorder_share
    tight_lot = np.maximum(items.daily_demand * draws.tight_lot_days, 1)
    reorder_point = np.where(tight, tight_point, healthy_point)
    lot = np.where(tight, tight_lot, healthy_lot)
    opening = np.where(
        tight,
        tight_point + tight_lot * draws.opening_share,
        healthy_point[0] + healthy_lot[0] * draws.opening_share,
    )
    # A discontinued SKU is not replenished: what is left covers its few last orders.
    reorder_point[:, ~items.is_active] = -1
    safety[~items.is_active] = 0
    leftover = items.daily_demand * days + 10 + 90 * draws.opening_share
    opening = np.where(items.is_active, opening, leftover)
    return Policy(reorder_point, lot, safety, np.ceil(opening).astype(np.int64))


def simulate(
    units: np.ndarray, policy: Policy, items: Items, draws: Draws, start: int
) -> Trajectory:
    """Day by day for all items at once: the morning count, the day's orders and arrivals,
    the night's review. `units` is (day, item) units ordered; `start` the first day's 00:00."""
    days, item_count = units.shape
    horizon = days + int(items.lead_days.max()) + LATE_DAYS[1] + 1
    arriving = np.zeros((horizon, item_count), dtype=np.int64)
    level = policy.opening.copy()
    on_order = np.zeros(item_count, dtype=np.int64)
    morning = np.empty((days, item_count), dtype=np.int64)
    bought: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for day in range(days):
        morning[day] = level
        level += arriving[day] - units[day]
        on_order -= arriving[day]
        position = level + on_order
        reorder = np.flatnonzero(position <= policy.reorder_point[day])
        quantity = np.ceil(
            policy.lot[day, reorder] + policy.reorder_point[day, reorder] - position[reorder]
        ).astype(np.int64)
        due_day = day + items.lead_days[reorder]
        arrival_day = due_day + draws.late_days[day, reorder]
        arriving[arrival_day, reorder] += quantity
        on_order[reorder] += quantity
        bought.append((reorder, due_day, arrival_day, quantity))
    item = np.concatenate([part[0] for part in bought])
    second = draws.arrival_second[
        np.repeat(np.arange(days), [len(part[0]) for part in bought]), item
    ]
    return Trajectory(
        morning=morning,
        replenishments=Replenishments(
            item=item,
            ordered_day=np.repeat(np.arange(days), [len(part[0]) for part in bought]),
            due=start + np.concatenate([part[1] for part in bought]) * DAY + second,
            arrives=start + np.concatenate([part[2] for part in bought]) * DAY + second,
        ),
        units_in=np.concatenate([part[3] for part in bought]),
    )


@dataclass
class Shortfalls:
    """Per order line: the stock left right after it took its units, and for a line that
    found too little, when the replenishment covering it arrives and its episode."""

    level_after: np.ndarray
    served_at: np.ndarray  # local seconds; NEVER when no replenishment covers it
    episode: np.ndarray  # index into the episodes, -1 for a line that was filled

    @property
    def is_short(self) -> np.ndarray:
        return self.level_after < 0


@dataclass
class Episodes:
    """Each time an item ran out: from the first line it could not fill to the replenishment
    that paid back everything owed."""

    item: np.ndarray
    ran_out_at: np.ndarray  # local seconds
    recovered_at: np.ndarray  # local seconds, NEVER when nothing covers it
    late_replenishment: np.ndarray  # an on-time replenishment would have come before it ran out

    def __len__(self) -> int:
        return len(self.item)


def find_shortfalls(
    line_item: np.ndarray,
    line_time: np.ndarray,
    line_units: np.ndarray,
    opening: np.ndarray,
    trajectory: Trajectory,
    start: int,
) -> tuple[Shortfalls, Episodes]:
    """Walk each item's lines and arrivals in time order (an arrival in the same second as a
    line comes first): which lines found too little, when each is served, and the episodes."""
    rep = trajectory.replenishments
    item = np.concatenate([line_item, rep.item])
    time = np.concatenate([line_time, rep.arrives])
    delta = np.concatenate([-line_units, trajectory.units_in])
    is_line = np.concatenate([np.ones(len(line_item), bool), np.zeros(len(rep.item), bool)])
    order = np.argsort((item << 34) | ((time - start) << 1) | is_line, kind="stable")
    item, time, delta, is_line = item[order], time[order], delta[order], is_line[order]

    first_of_item = np.ones(len(item), dtype=bool)
    first_of_item[1:] = item[1:] != item[:-1]
    running = np.cumsum(delta)
    item_start = np.maximum.accumulate(np.where(first_of_item, np.arange(len(item)), 0))
    level = opening[item] + running - (running - delta)[item_start]

    # First come, first served: a short line is covered once what arrives after it pays back
    # everything owed up to and including it.
    arrived = np.cumsum(np.where(is_line, 0, delta))  # never decreases
    owed = np.maximum(-level, 0)
    cover = np.minimum(np.searchsorted(arrived, arrived + owed, side="left"), len(item) - 1)
    served = np.where((owed > 0) & (item[cover] == item), time[cover], NEVER)

    episodes, episode_of_event = _episodes(item, time, level, first_of_item, rep)
    lines = order[is_line]
    shortfalls = Shortfalls(
        level_after=np.empty(len(line_item), np.int64),
        served_at=np.empty(len(line_item), np.int64),
        episode=np.empty(len(line_item), np.int64),
    )
    shortfalls.level_after[lines] = level[is_line]
    shortfalls.served_at[lines] = served[is_line]
    shortfalls.episode[lines] = np.where(level[is_line] < 0, episode_of_event[is_line], -1)
    return shortfalls, episodes


def _episodes(item, time, level, first_of_item, rep: Replenishments):
    """The runs of events below zero, per item; and per event, the run it is in."""
    negative = level < 0
    was_negative = np.zeros(len(level), dtype=bool)
    was_negative[1:] = negative[:-1]
    was_negative[first_of_item] = False
    starts = np.flatnonzero(negative & ~was_negative)
    recoveries = np.flatnonzero(~negative & was_negative)
    recovered_at = np.full(len(starts), NEVER, dtype=np.int64)
    if len(recoveries):
        following = recoveries[np.minimum(np.searchsorted(recoveries, starts), len(recoveries) - 1)]
        same_item = (following > starts) & (item[following] == item[starts])
        recovered_at[same_item] = time[following[same_item]]
    episode_of_event = np.searchsorted(starts, np.arange(len(level)), side="right") - 1
    episodes = Episodes(
        item=item[starts],
        ran_out_at=time[starts],
        recovered_at=recovered_at,
        late_replenishment=_late_caused(item[starts], time[starts], rep),
    )
    return episodes, episode_of_event


def _late_caused(items: np.ndarray, ran_out_at: np.ndarray, rep: Replenishments) -> np.ndarray:
    """A replenishment due before the item ran out arrived after it: on time, the item would
    not have run out then."""
    late = np.flatnonzero(rep.is_late)
    caused = np.zeros(len(items), dtype=bool)
    for index, (item, moment) in enumerate(zip(items.tolist(), ran_out_at.tolist(), strict=True)):
        mine = late[rep.item[late] == item]
        caused[index] = bool(np.any((rep.due[mine] <= moment) & (rep.arrives[mine] > moment)))
    return caused
