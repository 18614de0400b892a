"""Ordinary orders: when they are placed, by whom, to where, and what is in them.

Times are int64 seconds of Asia/Shanghai wall-clock time (naive local, as exports write them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from pipelines.generator import reference as ref
from pipelines.generator.catalogue import Catalogue

DAY = 86_400
HOUR = 3_600
MINUTE = 60
# Share of a day's orders in each hour: quiet nights, a lunch bump, a strong evening.
HOURLY = np.array(
    [
        2.0,
        1.0,
        0.5,
        0.3,
        0.2,
        0.3,
        0.6,
        1.5,
        3.0,
        4.5,
        5.5,
        5.5,
        5.0,
        5.0,
        5.5,
        5.5,
        5.0,
        4.5,
        4.5,
        5.5,
        7.0,
        8.0,
        7.5,
        5.0,
    ]
)
# On the promotion day the rush starts at midnight, when the discounts open.
PROMOTION_HOURLY = HOURLY.copy()
PROMOTION_HOURLY[0:2] = (30.0, 12.0)
WEEKDAY_FACTOR = np.array([1.0, 0.95, 0.95, 1.0, 1.05, 1.25, 1.2])  # Monday first


def local_seconds(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * DAY


@dataclass
class Calendar:
    first_day: dt.date
    end_date: dt.date
    promotion_day: dt.date

    @property
    def start(self) -> int:
        return local_seconds(self.first_day)

    @property
    def cutoff(self) -> int:
        """End of end_date, local: later events have not happened yet and are not written."""
        return local_seconds(self.end_date) + DAY


def make_calendar(days: int, end_date: dt.date) -> Calendar:
    first_day = end_date - dt.timedelta(days=days - 1)
    promotion_day = first_day + dt.timedelta(days=int(days * 0.75))
    for offset in range(days):  # an 11.11 in the range is the promotion day
        day = first_day + dt.timedelta(days=offset)
        if (day.month, day.day) == (11, 11):
            promotion_day = day
    return Calendar(first_day, end_date, promotion_day)


def daily_weights(calendar: Calendar, days: int) -> np.ndarray:
    dates = [calendar.first_day + dt.timedelta(days=offset) for offset in range(days)]
    weights = np.array([WEEKDAY_FACTOR[day.weekday()] for day in dates])
    weights *= np.linspace(0.9, 1.1, days)  # the business grows a little
    for offset, day in enumerate(dates):
        distance = (day - calendar.promotion_day).days
        if distance == 0:
            weights[offset] *= 4.0
        elif distance in (-1, 1):
            weights[offset] *= 1.7
        elif -10 <= distance < 0:
            weights[offset] *= 1.15  # the warm-up before the peak
    return weights / weights.sum()


@dataclass
class Orders:
    """One entry per order; indices point into the reference tuples."""

    placed: np.ndarray
    merchant: np.ndarray
    channel: np.ndarray
    destination: np.ndarray
    warehouse: np.ndarray
    carrier: np.ndarray
    surname: np.ndarray
    given_name: np.ndarray
    phone: np.ndarray  # int64 mobile number
    street: np.ndarray
    house_number: np.ndarray
    compound: np.ndarray
    building: np.ndarray
    room: np.ndarray
    platform_number: np.ndarray  # int64, unique per order unless duplicated on purpose
    priority_high: np.ndarray
    line_count: np.ndarray

    def __len__(self) -> int:
        return len(self.placed)


@dataclass
class Lines:
    """One entry per order line; lines of one order are contiguous and in order."""

    order: np.ndarray
    line_number: np.ndarray
    sku: np.ndarray  # index into the catalogue
    quantity: np.ndarray
    is_presale: np.ndarray

    def __len__(self) -> int:
        return len(self.order)


def place_orders(rng: np.random.Generator, count: int, calendar: Calendar, days: int) -> np.ndarray:
    per_day = rng.multinomial(count, daily_weights(calendar, days))
    day_index = np.repeat(np.arange(days), per_day)
    promotion_offset = (calendar.promotion_day - calendar.first_day).days
    hour = rng.choice(24, size=count, p=HOURLY / HOURLY.sum())
    on_promotion = day_index == promotion_offset
    hour[on_promotion] = rng.choice(
        24, size=int(on_promotion.sum()), p=PROMOTION_HOURLY / PROMOTION_HOURLY.sum()
    )
    seconds = hour * HOUR + rng.integers(0, HOUR, size=count)
    return np.sort(calendar.start + day_index * DAY + seconds)


def draw_orders(
    rng: np.random.Generator,
    count: int,
    calendar: Calendar,
    days: int,
    merchant_count: int,
    custom_rules: ref.CustomRules,
) -> Orders:
    placed = place_orders(rng, count, calendar, days)
    merchant_weights = 1.0 / np.arange(1, merchant_count + 1) ** 0.8
    merchant = rng.choice(merchant_count, size=count, p=merchant_weights / merchant_weights.sum())
    channel = rng.choice(len(ref.CHANNELS), size=count, p=ref.CHANNEL_WEIGHTS)
    destination_weights = np.array([row[4] for row in ref.DESTINATIONS])
    destination = rng.choice(
        len(ref.DESTINATIONS), size=count, p=destination_weights / destination_weights.sum()
    )
    return Orders(
        placed=placed,
        merchant=merchant,
        channel=channel,
        destination=destination,
        warehouse=nearest_warehouse(rng, destination),
        carrier=serving_carrier(rng, channel, destination, custom_rules),
        surname=rng.choice(len(ref.SURNAMES), size=count),
        given_name=rng.choice(len(ref.GIVEN_NAMES), size=count),
        phone=(
            np.array(ref.MOBILE_PREFIXES)[rng.integers(0, len(ref.MOBILE_PREFIXES), count)]
            * 100_000_000
            + rng.integers(0, 100_000_000, count)
        ),
        street=rng.integers(0, len(ref.STREETS), count),
        house_number=rng.integers(1, 600, count),
        compound=rng.integers(0, len(ref.COMPOUNDS), count),
        building=rng.integers(1, 30, count),
        room=rng.integers(1, 33, count) * 100 + rng.integers(1, 5, count),
        platform_number=np.arange(count, dtype=np.int64) * 7 + rng.integers(0, 7, count),
        priority_high=rng.random(count) < 0.04,
        line_count=rng.choice(4, size=count, p=[0.72, 0.18, 0.07, 0.03]) + 1,
    )


def nearest_warehouse(rng: np.random.Generator, destination: np.ndarray) -> np.ndarray:
    """Most orders ship from the warehouse of the destination's region, some from elsewhere."""
    region_warehouse = {warehouse.region: index for index, warehouse in enumerate(ref.WAREHOUSES)}
    nearest = np.array([region_warehouse[row[3]] for row in ref.DESTINATIONS])[destination]
    elsewhere = rng.random(len(destination)) < 0.15
    nearest[elsewhere] = rng.integers(0, len(ref.WAREHOUSES), int(elsewhere.sum()))
    return nearest


def serving_carrier(
    rng: np.random.Generator,
    channel: np.ndarray,
    destination: np.ndarray,
    custom_rules: ref.CustomRules,
) -> np.ndarray:
    """A carrier by the channel's habits, never one that does not serve the province."""
    carrier = rng.choice(len(ref.CARRIERS), size=len(channel), p=ref.CARRIER_WEIGHTS)
    jd_channel = channel == ref.CHANNELS.index("jd")
    carrier[jd_channel & (rng.random(len(channel)) < 0.6)] = ref.CARRIERS.index("jd_logistics")
    excluded = excluded_pairs(custom_rules)
    carrier[excluded[carrier, destination]] = ref.CARRIERS.index(ref.FALLBACK_CARRIER)
    return carrier


def excluded_pairs(custom_rules: ref.CustomRules) -> np.ndarray:
    """Boolean [carrier, destination] matrix of the seed's excluded (carrier, province) pairs."""
    matrix = np.zeros((len(ref.CARRIERS), len(ref.DESTINATIONS)), dtype=bool)
    for carrier_index, carrier in enumerate(ref.CARRIERS):
        for destination_index, row in enumerate(ref.DESTINATIONS):
            matrix[carrier_index, destination_index] = (
                carrier,
                row[0],
            ) in custom_rules.excluded_regions
    return matrix


def draw_lines(rng: np.random.Generator, orders: Orders, catalogue: Catalogue) -> Lines:
    order = np.repeat(np.arange(len(orders)), orders.line_count)
    starts = np.cumsum(orders.line_count) - orders.line_count
    line_number = np.arange(len(order)) - np.repeat(starts, orders.line_count) + 1
    sku = np.empty(len(order), dtype=np.int64)
    line_merchant = orders.merchant[order]
    for merchant_index in np.unique(line_merchant):
        on_sale = np.flatnonzero(
            (catalogue.merchant_index == merchant_index) & ~catalogue.is_discontinued
        )
        cumulative = np.cumsum(catalogue.popularity[on_sale])
        lines_of_merchant = np.flatnonzero(line_merchant == merchant_index)
        draws = rng.random(len(lines_of_merchant)) * cumulative[-1]
        sku[lines_of_merchant] = on_sale[
            np.searchsorted(cumulative, draws, side="right").clip(max=len(on_sale) - 1)
        ]
    quantity = rng.choice(5, size=len(order), p=[0.8, 0.13, 0.04, 0.02, 0.01]) + 1
    return Lines(
        order=order,
        line_number=line_number,
        sku=sku,
        quantity=quantity,
        is_presale=np.zeros(len(order), dtype=bool),
    )


def line_starts(orders: Orders) -> np.ndarray:
    return np.cumsum(orders.line_count) - orders.line_count
