"""The marketplace shape of `oex generate`: a small Brazilian marketplace export in the exact
file layout of the public Olist dataset (Kaggle, 2016-2018).

Why a second shape: the source profiles map a platform's export onto the input contract, and
a demonstration needs an export that is not ours. This one is written the way Olist wrote
theirs (seven CSV files, 32-hex ids, local Sao Paulo times without an offset, a customer row
per order), so a profile written against it also reads the real files.

Every time is drawn as int64 UTC seconds; only the files see local time. Brazil kept daylight
saving time until 2019, so a wall-clock time can be missing (the spring-forward hour) or occur
twice (the fall-back hour): no generated time is either (see Clock.unambiguous). Everything is
drawn from one seeded generator in a fixed order: same seed, same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.generator import marketplace_reference as ref

DAY = 86_400
HOUR = 3_600
MINUTE = 60
EPOCH = dt.date(1970, 1, 1)
FOLDER = "marketplace"
RETURNING_SHARE = 0.03  # orders placed by a customer who ordered before
LATE_HANDOFF_SHARE = 0.09  # of orders handed to the carrier
LATE_DELIVERY_SHARE = 0.082  # drawn; a few more turn late when a handoff leaves no time
(DELIVERED, SHIPPED, CANCELED, UNAVAILABLE, INVOICED, PROCESSING, CREATED, APPROVED) = range(8)
(CREDIT_CARD, BOLETO, VOUCHER, DEBIT_CARD) = range(4)
# Review scores 1-5 of orders delivered in time, delivered late and never delivered.
SCORE_SHARE = np.array(
    [
        [0.06, 0.03, 0.08, 0.20, 0.63],
        [0.50, 0.13, 0.13, 0.10, 0.14],
        [0.80, 0.10, 0.06, 0.02, 0.02],
    ]
)
MESSAGE_SHARE = np.array([0.75, 0.70, 0.55, 0.35, 0.32])  # by score: unhappy people write
TITLE_SHARE = 0.12


def _day_number(day: dt.date) -> int:
    return (day - EPOCH).days


@dataclass(frozen=True)
class Clock:
    """Sao Paulo wall-clock time for UTC seconds, vectorised over the zone's offset changes.

    The changes are read once from zoneinfo for the days in range; every conversion after that
    is a searchsorted, so a million times convert in milliseconds."""

    changes: np.ndarray  # UTC second from which offsets[i + 1] applies
    offsets: np.ndarray  # seconds east of UTC; offsets[0] before the first change
    first_day: int  # local day number of day_starts[0]
    day_starts: np.ndarray  # UTC second at which each local day starts
    midnight_exists: np.ndarray  # False on spring-forward days: 00:00 is skipped

    @classmethod
    def build(cls, first: dt.date, last: dt.date) -> Clock:
        zone = ZoneInfo(ref.TIMEZONE)

        def offset_at(second: int) -> int:
            return int(dt.datetime.fromtimestamp(second, zone).utcoffset().total_seconds())

        noons = [(_day_number(first) + n) * DAY + 12 * HOUR for n in range((last - first).days)]
        daily = [offset_at(noon) for noon in noons]
        changes, offsets = [], [daily[0]]
        for noon, before, after in zip(noons, daily, daily[1:], strict=False):
            if after != before:  # Brazil changes its clocks on the hour: find that hour
                change = next(s for s in range(noon, noon + DAY, HOUR) if offset_at(s) == after)
                changes.append(change)
                offsets.append(after)
        starts, exists = [], []
        for n in range((last - first).days + 1):
            midnight = dt.datetime.combine(first + dt.timedelta(days=n), dt.time(), zone)
            start = int(midnight.timestamp())
            starts.append(start)
            exists.append(dt.datetime.fromtimestamp(start, zone).time() == dt.time())
        return cls(
            changes=np.array(changes, dtype=np.int64),
            offsets=np.array(offsets, dtype=np.int64),
            first_day=_day_number(first),
            day_starts=np.array(starts, dtype=np.int64),
            midnight_exists=np.array(exists),
        )

    def offset(self, utc: np.ndarray) -> np.ndarray:
        return self.offsets[np.searchsorted(self.changes, utc, side="right")]

    def local_day(self, utc: np.ndarray) -> np.ndarray:
        return (utc + self.offset(utc)) // DAY

    def _day_index(self, day: np.ndarray) -> np.ndarray:
        return np.clip(day - self.first_day, 0, len(self.day_starts) - 1)

    def day_start(self, day: np.ndarray) -> np.ndarray:
        """UTC second at which a local day starts (01:00 on a day that skips midnight)."""
        return self.day_starts[self._day_index(day)]

    def existing_midnight(self, day: np.ndarray) -> np.ndarray:
        """The day, or the next when its midnight is skipped: dates are written at 00:00:00."""
        return day + ~self.midnight_exists[self._day_index(day)]

    def to_utc(self, local: np.ndarray) -> np.ndarray:
        """Naive local seconds to UTC; a drawn local time in a skipped hour lands an hour on."""
        return local - self.offset(local - self.offset(local))

    def unambiguous(self, utc: np.ndarray) -> np.ndarray:
        """Times whose local reading occurs twice (the fall-back hour) move one local hour on.

        A reader of the file could not tell which of the two it was; moving forward keeps
        every step at or after the step it was drawn from."""
        for change, before, after in zip(
            self.changes.tolist(),
            self.offsets[:-1].tolist(),
            self.offsets[1:].tolist(),
            strict=True,
        ):
            repeat = before - after
            if repeat <= 0:
                continue  # clocks went forward: every instant still has one local reading
            first_pass = (utc >= change - repeat) & (utc < change)
            second_pass = (utc >= change) & (utc < change + repeat)
            utc = np.where(first_pass, utc + 2 * repeat, np.where(second_pass, utc + repeat, utc))
        return utc

    def render(self, utc: np.ndarray, present: np.ndarray | None = None) -> list[str | None]:
        """`YYYY-MM-DD HH:MM:SS` local text; None (an empty cell) where a step was not reached."""
        local = pa.array(
            utc + self.offset(utc),
            pa.timestamp("s"),
            mask=None if present is None else ~present,
        )
        return pc.strftime(local, format="%Y-%m-%d %H:%M:%S").to_pylist()


# ---------------------------------------------------------------- who orders, and when


def black_fridays(first_day: int, last_day: int) -> np.ndarray:
    """Day numbers of the Black Fridays (fourth Friday of November) near a range of days."""
    first_year = (EPOCH + dt.timedelta(days=int(first_day))).year
    last_year = (EPOCH + dt.timedelta(days=int(last_day))).year
    days = []
    for year in range(first_year, last_year + 1):
        november = dt.date(year, 11, 1)
        days.append(_day_number(november) + (4 - november.weekday()) % 7 + 21)
    return np.array(days, dtype=np.int64)


def in_black_friday_weeks(day: np.ndarray, fridays: np.ndarray) -> np.ndarray:
    """Bought in the week before Black Friday or the ten days after: carriers are swamped."""
    offset = day[:, None] - fridays[None, :]
    return ((offset >= -7) & (offset <= 10)).any(axis=1)


def _purchases(
    rng: np.random.Generator, orders: int, days: int, end: int, clock: Clock
) -> np.ndarray:
    """Purchase times in UTC, sorted: growing volume, quiet weekends, a Black Friday rush."""
    day_numbers = np.arange(end - days + 1, end + 1)
    progress = np.arange(days) / max(days - 1, 1)
    weights = 0.2 + 0.8 / (1 + np.exp(-(progress - 0.35) / 0.08))  # the marketplace grows
    weights = weights * ref.WEEKDAY_FACTOR[(day_numbers + 3) % 7]  # 1970-01-01 was a Thursday
    for friday in black_fridays(day_numbers[0], day_numbers[-1]).tolist():
        offset = day_numbers - friday
        weights = weights * np.where(offset == 0, 4.5, 1.0)
        weights = weights * np.where((offset >= 1) & (offset <= 3), 1.8, 1.0)
        weights = weights * np.where((offset >= -7) & (offset <= -1), 1.3, 1.0)
    day = np.repeat(day_numbers, rng.multinomial(orders, weights / weights.sum()))
    hour = rng.choice(24, size=orders, p=ref.HOURLY / ref.HOURLY.sum())
    local = day * DAY + hour * HOUR + rng.integers(0, HOUR, size=orders)
    return np.sort(clock.unambiguous(clock.to_utc(local)))


@dataclass(frozen=True)
class Located:
    state: np.ndarray
    city: np.ndarray
    zip_prefix: np.ndarray


def _locate(rng: np.random.Generator, places: ref.Places, share: np.ndarray, size: int) -> Located:
    state = rng.choice(len(share), size=size, p=share)
    city = np.searchsorted(places.city_cumulative, state + rng.random(size), side="right")
    zip_prefix = rng.integers(places.zip_first[city], places.zip_last[city] + 1)
    return Located(state, city, zip_prefix)


def _customers(
    rng: np.random.Generator, places: ref.Places, orders: int
) -> tuple[Located, np.ndarray]:
    """Where each order goes, and whose it is: Olist writes a new customer_id per order, and
    a returning buyer shows only in customer_unique_id (the first order's), at the same place."""
    where = _locate(rng, places, places.customer_share, orders)
    index = np.arange(orders)
    returning = (rng.random(orders) < RETURNING_SHARE) & (index > 0)
    first_order = np.where(returning, (rng.random(orders) * index).astype(np.int64), index)
    while not np.array_equal(first_order[first_order], first_order):
        first_order = first_order[first_order]  # a returning buyer's first order, not the last
    moved = Located(
        where.state[first_order], where.city[first_order], where.zip_prefix[first_order]
    )
    return moved, first_order


# ---------------------------------------------------------------- what is sold, by whom


@dataclass(frozen=True)
class Catalogue:
    sellers: Located
    category: np.ndarray  # index into ref.CATEGORIES, -1 when the export has none
    seller: np.ndarray
    price: np.ndarray  # cents
    weight: np.ndarray  # grams
    weight_known: np.ndarray
    length: np.ndarray
    height: np.ndarray
    width: np.ndarray
    name_length: np.ndarray
    description_length: np.ndarray
    photos: np.ndarray


def _catalogue(rng: np.random.Generator, places: ref.Places, orders: int) -> Catalogue:
    """About one seller per 30 orders (most in Sao Paulo) and one product per 3 orders."""
    sellers = max(1, round(orders / 30))
    products = max(1, round(orders / 3))  # never more than orders: every product is sold
    located = _locate(rng, places, places.seller_share, sellers)
    popularity = rng.permutation((np.arange(sellers) + 1.0) ** -0.7)
    seller = rng.choice(sellers, size=products, p=popularity / popularity.sum())
    seller[:sellers] = rng.permutation(sellers)  # every seller has a product
    shares = np.array([entry[1] for entry in ref.CATEGORIES])
    category = rng.choice(len(shares), size=products, p=shares / shares.sum())
    category[rng.random(products) < ref.EMPTY_CATEGORY_SHARE] = -1
    typical = np.append([entry[2] for entry in ref.CATEGORIES], 800)[category]  # 800: none
    grams = typical * rng.lognormal(0.0, 0.8, products)
    weight = np.clip(np.round(grams / 5) * 5, 50, 30_000).astype(np.int64)
    side = np.cbrt(weight * 4.0)  # cm, for a parcel of ordinary density
    base = 45 * (weight / 600) ** 0.3 * rng.lognormal(0.0, 0.7, products)
    endings = rng.choice([90, 99, 0, 50, -1], size=products, p=[0.45, 0.15, 0.2, 0.1, 0.1])
    endings = np.where(endings < 0, rng.integers(0, 100, products), endings)
    return Catalogue(
        sellers=located,
        category=category,
        seller=seller,
        price=np.floor(np.clip(base, 10, 999)).astype(np.int64) * 100 + endings,
        weight=weight,
        weight_known=rng.random(products) >= 0.002,
        length=np.clip(np.round(side * rng.uniform(1.0, 1.8, products)), 7, 105).astype(int),
        height=np.clip(np.round(side * rng.uniform(0.3, 1.0, products)), 2, 105).astype(int),
        width=np.clip(np.round(side * rng.uniform(0.7, 1.4, products)), 6, 118).astype(int),
        name_length=np.clip(np.round(rng.normal(48, 10, products)), 5, 76).astype(int),
        description_length=np.clip(
            np.round(rng.lognormal(np.log(600), 0.75, products)), 4, 3992
        ).astype(int),
        photos=np.clip(rng.geometric(0.55, products), 1, 20),
    )


@dataclass(frozen=True)
class Items:
    order: np.ndarray
    number: np.ndarray  # order_item_id, 1..n within an order
    product: np.ndarray
    price: np.ndarray  # cents
    freight: np.ndarray  # cents
    count: np.ndarray  # per order


def _items(
    rng: np.random.Generator, catalogue: Catalogue, customers: Located, remote: np.ndarray
) -> Items:
    """One item for nine orders in ten; a second item is often the same product again (Olist
    writes a quantity as repeated items). Every product of the catalogue is sold at least once."""
    orders = len(customers.state)
    count = rng.choice([1, 2, 3, 4], size=orders, p=[0.9, 0.07, 0.02, 0.01])
    first_row = np.cumsum(count) - count
    order = np.repeat(np.arange(orders), count)
    number = np.arange(len(order)) - first_row[order] + 1
    popularity = rng.permutation((np.arange(len(catalogue.price)) + 10.0) ** -0.9)
    product = rng.choice(len(popularity), size=len(order), p=popularity / popularity.sum())
    repeats = rng.random(orders) < 0.6
    lead = (number == 1) | ~repeats[order]
    chosen = rng.permutation(np.flatnonzero(lead))[: len(catalogue.price)]
    product[chosen] = np.arange(len(chosen))
    product = np.where(lead, product, product[first_row[order]])
    kilos = np.where(catalogue.weight_known, catalogue.weight, 800)[product] / 1000
    away = catalogue.sellers.state[catalogue.seller[product]] != customers.state[order]
    reais = 7 + 2.4 * kilos**0.8 + 9 * remote[order] + 3 * away + rng.normal(0, 2.5, len(order))
    return Items(
        order=order,
        number=number,
        product=product,
        price=catalogue.price[product],
        freight=np.clip(np.round(reais * 100), 500, 6000).astype(np.int64),
        count=count,
    )


# ---------------------------------------------------------------- payment and the steps


@dataclass(frozen=True)
class Payments:
    order: np.ndarray
    sequential: np.ndarray
    kind: np.ndarray  # index into ref.PAYMENT_TYPES
    installments: np.ndarray
    value: np.ndarray  # cents
    first_kind: np.ndarray  # per order
    approval_delay: np.ndarray  # seconds, per order


def _payments(rng: np.random.Generator, total: np.ndarray) -> Payments:
    """How each order is paid and how long the payment takes to be approved: a card in
    seconds to minutes (a few need hours of fraud review), a boleto (bank slip) in 1-3 days
    when the buyer pays it at the bank. A voucher order is paid by 1-3 vouchers."""
    orders = len(total)
    kind = rng.choice(len(ref.PAYMENT_SHARE), size=orders, p=ref.PAYMENT_SHARE)
    fast = 10 + rng.random(orders) ** 2 * (20 * MINUTE - 10)
    slow = 31 * MINUTE + rng.random(orders) ** 1.5 * (5 * HOUR - 31 * MINUTE)
    boleto = DAY + rng.random(orders) * 2 * DAY
    late_boleto = 3 * DAY + 1 + rng.random(orders) * 4 * DAY
    card = np.where(rng.random(orders) < 0.04, slow, fast)
    bank = np.where(rng.random(orders) < 0.06, late_boleto, boleto)
    delay = np.where(kind == BOLETO, bank, card).astype(np.int64)
    installments = rng.choice(ref.INSTALLMENTS, size=orders, p=ref.INSTALLMENT_SHARE)
    installments = np.where(kind == CREDIT_CARD, installments, 1)
    parts = np.where(kind == VOUCHER, rng.choice([1, 2, 3], size=orders, p=[0.55, 0.3, 0.15]), 1)
    cut = rng.integers(1, total)
    other = rng.integers(1, total - 1)
    other = other + (other >= cut)  # two different cuts in 1 .. total - 1
    low, high = np.minimum(cut, other), np.maximum(cut, other)
    split = np.select(
        [parts[:, None] == 1, parts[:, None] == 2],
        [
            np.stack([total, 0 * total, 0 * total], axis=1),
            np.stack([cut, total - cut, 0 * total], axis=1),
        ],
        np.stack([low, high - low, total - high], axis=1),
    )
    order = np.repeat(np.arange(orders), parts)
    sequential = np.arange(len(order)) - (np.cumsum(parts) - parts)[order] + 1
    return Payments(
        order=order,
        sequential=sequential,
        kind=kind[order],
        installments=installments[order],
        value=split[order, sequential - 1],
        first_kind=kind,
        approval_delay=delay,
    )


@dataclass(frozen=True)
class Timeline:
    """Every step as if the order went all the way; the status decides which ones happened."""

    placed: np.ndarray
    approved: np.ndarray
    limit_days: np.ndarray
    limit: np.ndarray  # from approval
    carrier: np.ndarray
    delivered: np.ndarray
    promised_day: np.ndarray  # local day number
    promised_end: np.ndarray  # last UTC second of that local day


def _timeline(
    rng: np.random.Generator,
    clock: Clock,
    placed: np.ndarray,
    delay: np.ndarray,
    remote: np.ndarray,
    black_friday: np.ndarray,
) -> Timeline:
    """Draw handoff and delivery so that their lateness has a pattern: far states and Black
    Friday weeks are late more often, and a late handoff often means a late delivery."""
    orders = len(placed)
    approved = clock.unambiguous(placed + delay)
    limit_days = rng.integers(2, 7, orders)
    limit = clock.unambiguous(approved + limit_days * DAY)
    risk = 1 + 1.2 * remote + 2.0 * black_friday
    late_handoff = rng.random(orders) < np.minimum(LATE_HANDOFF_SHARE * risk / risk.mean(), 0.9)
    in_time = approved + 6 * HOUR + (limit - approved - 7 * HOUR) * rng.beta(1.3, 2.6, orders)
    late = limit + 2 * HOUR + rng.random(orders) ** 1.5 * 3 * DAY
    carrier = clock.unambiguous(np.where(late_handoff, late, in_time).astype(np.int64))

    promise = np.where(remote, rng.integers(20, 36, orders), rng.integers(15, 31, orders))
    promised_day = clock.existing_midnight(clock.local_day(placed) + promise)
    promised_start = clock.day_start(promised_day)
    promised_end = clock.day_start(promised_day + 1) - 1
    risk = 1 + 2.0 * remote + 2.5 * black_friday + 3.0 * late_handoff
    late_delivery = rng.random(orders) < np.minimum(LATE_DELIVERY_SHARE * risk / risk.mean(), 0.9)
    earliest = carrier + 3 * DAY
    latest = np.minimum(carrier + 25 * DAY, promised_start - 1)
    regular = np.where(
        latest >= earliest,
        earliest + (latest - earliest) * rng.beta(1.6, 3.5, orders),
        earliest + rng.random(orders) * 4 * DAY,  # handed over too late to be in time
    )
    on_the_day = promised_start + rng.integers(9 * HOUR, 21 * HOUR, orders)
    regular = np.where((rng.random(orders) < 0.04) & (on_the_day >= earliest), on_the_day, regular)
    overdue = np.maximum(promised_end + HOUR + rng.exponential(4 * DAY, orders), earliest)
    delivered = np.where(late_delivery, overdue, regular).astype(np.int64)
    return Timeline(
        placed=placed,
        approved=approved,
        limit_days=limit_days,
        limit=limit,
        carrier=carrier,
        delivered=clock.unambiguous(delivered),
        promised_day=promised_day,
        promised_end=promised_end,
    )


def _statuses(rng: np.random.Generator, timeline: Timeline, export: int) -> np.ndarray:
    """Each order's status. An order still on its way at the export is whatever step it has
    reached; the other statuses go to orders at random, up to Olist's shares (and at least two
    of each in samples of 400 orders or more, so that every case shows). A history of a few
    weeks leaves many orders on their way at the export: fewer are delivered than in Olist."""
    orders = len(timeline.placed)
    target = np.round(ref.STATUS_SHARE * orders).astype(np.int64)
    if orders >= 400:
        target[1:] = np.maximum(target[1:], 2)
    reached = (
        (timeline.approved < export).astype(np.int64)
        + (timeline.carrier < export)
        + (timeline.delivered < export)
    )
    status = np.full(orders, DELIVERED)
    free = np.ones(orders, dtype=bool)

    def assign(candidates: np.ndarray, count: int, code: int) -> None:
        chosen = rng.permutation(np.flatnonzero(candidates))[: max(count, 0)]
        status[chosen] = code
        free[chosen] = False

    assign(free & (reached >= 1), target[UNAVAILABLE], UNAVAILABLE)
    assign(free, target[CANCELED], CANCELED)
    waiting = rng.choice([APPROVED, PROCESSING, INVOICED], size=orders)
    stage_status = np.select([reached == 0, reached == 1], [CREATED, waiting], SHIPPED)
    on_the_way = free & (reached < 3)
    status[on_the_way] = stage_status[on_the_way]
    free[on_the_way] = False
    for code in (CREATED, APPROVED, PROCESSING, INVOICED, SHIPPED):
        assign(free, target[code] - np.count_nonzero(status == code), code)
    return status


@dataclass(frozen=True)
class Steps:
    """Which steps happened, and the shipping limit that follows from them."""

    approved: np.ndarray
    carrier: np.ndarray
    delivered: np.ndarray
    limit: np.ndarray
    late_handoff: np.ndarray
    late_delivery: np.ndarray


def _steps(
    rng: np.random.Generator, clock: Clock, timeline: Timeline, status: np.ndarray, export: int
) -> Steps:
    """Cancelled orders: most were approved first, a few were even with the carrier."""
    orders = len(status)
    canceled = status == CANCELED
    approved = np.isin(status, [DELIVERED, SHIPPED, UNAVAILABLE, INVOICED, PROCESSING, APPROVED])
    approved |= canceled & (rng.random(orders) < 0.8) & (timeline.approved < export)
    carrier = np.isin(status, [DELIVERED, SHIPPED])
    carrier |= canceled & approved & (rng.random(orders) < 0.15) & (timeline.carrier < export)
    delivered = status == DELIVERED
    unapproved_limit = clock.unambiguous(timeline.placed + timeline.limit_days * DAY)
    limit = np.where(approved, timeline.limit, unapproved_limit)
    return Steps(
        approved=approved,
        carrier=carrier,
        delivered=delivered,
        limit=limit,
        late_handoff=carrier & (timeline.carrier > limit),
        late_delivery=delivered & (timeline.delivered > timeline.promised_end),
    )


# ---------------------------------------------------------------- what customers said


@dataclass(frozen=True)
class Reviews:
    order: np.ndarray
    score: np.ndarray
    title: list[str | None]
    message: list[str | None]
    created: np.ndarray
    answered: np.ndarray


def _pick(rng: np.random.Generator, options: tuple[str, ...], size: int) -> np.ndarray:
    return np.array(options, dtype=object)[rng.integers(0, len(options), size)]


def _reviews(
    rng: np.random.Generator, clock: Clock, timeline: Timeline, steps: Steps, export: int
) -> Reviews:
    """The survey goes out the day after delivery (or after the promised day when nothing
    came); nearly every delivered order and many others are reviewed, late ones badly."""
    orders = len(steps.delivered)
    day = np.where(
        steps.delivered, clock.local_day(timeline.delivered) + 1, timeline.promised_day + 1
    )
    created = clock.day_start(clock.existing_midnight(day))
    answered = clock.unambiguous(created + DAY + (rng.random(orders) ** 1.7 * 4 * DAY).astype(int))
    wanted = rng.random(orders) < np.where(steps.delivered, 0.97, 0.6)
    group = np.where(steps.delivered, np.where(steps.late_delivery, 1, 0), 2)
    cumulative = np.cumsum(SCORE_SHARE, axis=1)[group]
    score = 1 + (rng.random(orders)[:, None] >= cumulative[:, :4]).sum(axis=1)
    mood = np.select([score <= 2, score == 3], [0, 1], 2)
    messages = np.select(
        [mood == 0, mood == 1],
        [
            _pick(rng, ref.NEGATIVE, orders),
            _pick(rng, ref.NEUTRAL, orders),
        ],
        _pick(rng, ref.POSITIVE, orders),
    )
    titles = np.select(
        [mood == 0, mood == 1],
        [
            _pick(rng, ref.TITLES_NEGATIVE, orders),
            _pick(rng, ref.TITLES_NEUTRAL, orders),
        ],
        _pick(rng, ref.TITLES_POSITIVE, orders),
    )
    has_message = rng.random(orders) < MESSAGE_SHARE[score - 1]
    has_title = rng.random(orders) < TITLE_SHARE
    kept = np.flatnonzero(wanted & (answered < export))
    return Reviews(
        order=kept,
        score=score[kept],
        title=np.where(has_title, titles, None)[kept].tolist(),
        message=np.where(has_message, messages, None)[kept].tolist(),
        created=created[kept],
        answered=answered[kept],
    )


# ---------------------------------------------------------------- files


def _hex_ids(rng: np.random.Generator, count: int) -> np.ndarray:
    """32 lowercase hex characters, as Olist's ids (which are MD5 hashes)."""
    text = rng.bytes(16 * count).hex()
    return np.array([text[start : start + 32] for start in range(0, 32 * count, 32)])


def _money(cents: np.ndarray) -> list[str]:
    return [f"{value // 100}.{value % 100:02d}" for value in cents.tolist()]


def _zip_text(zip_prefix: np.ndarray) -> list[str]:
    return [f"{value:05d}" for value in zip_prefix.tolist()]


def _write_csv(path: Path, columns: dict[str, list]) -> int:
    """Comma separated, `\\n` line ends, quotes only around a value that needs them."""
    assert tuple(columns) == ref.FILES[path.name], path.name
    rows = list(zip(*columns.values(), strict=True))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(columns)
        writer.writerows(rows)
    return len(rows)


def _optional(values: np.ndarray, present: np.ndarray) -> list:
    return [
        value if keep else None
        for value, keep in zip(values.tolist(), present.tolist(), strict=True)
    ]


def _utc_column(utc: np.ndarray, present: np.ndarray | None = None) -> pa.Array:
    return pa.array(utc, pa.timestamp("s"), mask=None if present is None else ~present)


def generate_marketplace(
    orders: int, days: int, seed: int, end_date: dt.date, inbox: Path, truth_dir: Path
) -> str:
    """Write the seven Olist-shaped files into <inbox>/marketplace/ and the per-order truth
    (marketplace_orders.parquet, marketplace_manifest.json) into the truth folder."""
    if orders < 1 or days < 1:
        raise ValueError("--orders and --days must be at least 1")
    started = time.perf_counter()
    folder, truth_dir = Path(inbox) / FOLDER, Path(truth_dir)
    rng = np.random.default_rng(seed)
    places = ref.places()
    end = _day_number(end_date)
    clock = Clock.build(end_date - dt.timedelta(days=days + 2), end_date + dt.timedelta(days=400))
    export = int(clock.day_start(np.array([end + 1]))[0])  # the export: the night after end_date

    placed = _purchases(rng, orders, days, end, clock)
    customers, first_order = _customers(rng, places, orders)
    remote = places.remote[customers.state]
    catalogue = _catalogue(rng, places, orders)
    items = _items(rng, catalogue, customers, remote)
    total = np.bincount(items.order, weights=items.price + items.freight, minlength=orders)
    total = np.round(total).astype(np.int64)
    payments = _payments(rng, total)
    fridays = black_fridays(end - days, end + 1)
    black_friday = in_black_friday_weeks(clock.local_day(placed), fridays)
    timeline = _timeline(rng, clock, placed, payments.approval_delay, remote, black_friday)
    status = _statuses(rng, timeline, export)
    steps = _steps(rng, clock, timeline, status, export)
    reviews = _reviews(rng, clock, timeline, steps, export)
    order_ids = _hex_ids(rng, orders)
    customer_ids = _hex_ids(rng, orders)
    unique_ids = _hex_ids(rng, orders)[first_order]
    seller_ids = _hex_ids(rng, len(catalogue.sellers.state))
    product_ids = _hex_ids(rng, len(catalogue.price))
    review_ids = _hex_ids(rng, orders)[reviews.order]

    folder.mkdir(parents=True, exist_ok=True)
    limit_text = clock.render(steps.limit)
    rows = {
        "olist_orders_dataset.csv": _write_csv(
            folder / "olist_orders_dataset.csv",
            {
                "order_id": order_ids.tolist(),
                "customer_id": customer_ids.tolist(),
                "order_status": np.array(ref.STATUSES)[status].tolist(),
                "order_purchase_timestamp": clock.render(placed),
                "order_approved_at": clock.render(timeline.approved, steps.approved),
                "order_delivered_carrier_date": clock.render(timeline.carrier, steps.carrier),
                "order_delivered_customer_date": clock.render(timeline.delivered, steps.delivered),
                "order_estimated_delivery_date": clock.render(
                    clock.day_start(timeline.promised_day)
                ),
            },
        ),
        "olist_order_items_dataset.csv": _write_csv(
            folder / "olist_order_items_dataset.csv",
            {
                "order_id": order_ids[items.order].tolist(),
                "order_item_id": items.number.tolist(),
                "product_id": product_ids[items.product].tolist(),
                "seller_id": seller_ids[catalogue.seller[items.product]].tolist(),
                "shipping_limit_date": [limit_text[order] for order in items.order.tolist()],
                "price": _money(items.price),
                "freight_value": _money(items.freight),
            },
        ),
        "olist_customers_dataset.csv": _write_csv(
            folder / "olist_customers_dataset.csv",
            {
                "customer_id": customer_ids.tolist(),
                "customer_unique_id": unique_ids.tolist(),
                "customer_zip_code_prefix": _zip_text(customers.zip_prefix),
                "customer_city": places.city_names[customers.city].tolist(),
                "customer_state": places.state_codes[customers.state].tolist(),
            },
        ),
        "olist_order_payments_dataset.csv": _write_csv(
            folder / "olist_order_payments_dataset.csv",
            {
                "order_id": order_ids[payments.order].tolist(),
                "payment_sequential": payments.sequential.tolist(),
                "payment_type": np.array(ref.PAYMENT_TYPES)[payments.kind].tolist(),
                "payment_installments": payments.installments.tolist(),
                "payment_value": _money(payments.value),
            },
        ),
        "olist_order_reviews_dataset.csv": _write_csv(
            folder / "olist_order_reviews_dataset.csv",
            {
                "review_id": review_ids.tolist(),
                "order_id": order_ids[reviews.order].tolist(),
                "review_score": reviews.score.tolist(),
                "review_comment_title": reviews.title,
                "review_comment_message": reviews.message,
                "review_creation_date": clock.render(reviews.created),
                "review_answer_timestamp": clock.render(reviews.answered),
            },
        ),
        "olist_products_dataset.csv": _write_csv(
            folder / "olist_products_dataset.csv",
            _products_columns(catalogue, product_ids),
        ),
        "olist_sellers_dataset.csv": _write_csv(
            folder / "olist_sellers_dataset.csv",
            {
                "seller_id": seller_ids.tolist(),
                "seller_zip_code_prefix": _zip_text(catalogue.sellers.zip_prefix),
                "seller_city": places.city_names[catalogue.sellers.city].tolist(),
                "seller_state": places.state_codes[catalogue.sellers.state].tolist(),
            },
        ),
    }

    paid = np.round(np.bincount(payments.order, weights=payments.value, minlength=orders))
    truth = pa.table(
        {
            "order_id": pa.array(order_ids.tolist(), pa.string()),
            "order_status": pa.array(np.array(ref.STATUSES)[status].tolist(), pa.string()),
            "payment_type": pa.array(
                np.array(ref.PAYMENT_TYPES)[payments.first_kind].tolist(), pa.string()
            ),
            "placed_at_utc": _utc_column(placed),
            "approved_at_utc": _utc_column(timeline.approved, steps.approved),
            "handed_to_carrier_at_utc": _utc_column(timeline.carrier, steps.carrier),
            "delivered_at_utc": _utc_column(timeline.delivered, steps.delivered),
            "shipping_limit_at_utc": _utc_column(steps.limit),
            "promised_delivery_end_utc": _utc_column(timeline.promised_end),
            "order_amount": pa.array(_money(total)).cast(pa.decimal128(12, 2)),
            "paid_amount": pa.array(_money(paid.astype(np.int64))).cast(pa.decimal128(12, 2)),
            "items": pa.array(items.count, pa.int32()),
            "is_late_handoff": pa.array(steps.late_handoff),
            "is_late_delivery": pa.array(steps.late_delivery),
            "approval_minutes": pa.array(
                np.round((timeline.approved - placed) / MINUTE, 2), mask=~steps.approved
            ),
        }
    )
    truth_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(truth, truth_dir / "marketplace_orders.parquet")

    manifest = _manifest(orders, days, seed, end_date, export, rows, status, steps, payments)
    manifest["reviews"] = {
        "reviews": len(reviews.order),
        "with_message": sum(message is not None for message in reviews.message),
        "with_title": sum(title is not None for title in reviews.title),
    }
    manifest["returning_customer_orders"] = int(np.count_nonzero(first_order != np.arange(orders)))
    (truth_dir / "marketplace_manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    seconds = time.perf_counter() - started
    handed, delivered = int(steps.carrier.sum()), int(steps.delivered.sum())
    return (
        f"{orders:,} marketplace orders over {days} days: {len(rows)} Olist-shaped csv files in "
        f"{folder}; {int(steps.late_handoff.sum()):,} of {handed:,} handoffs late, "
        f"{int(steps.late_delivery.sum()):,} of {delivered:,} deliveries late "
        f"(truth in {truth_dir}); {seconds:.1f} s"
    )


def _products_columns(catalogue: Catalogue, product_ids: np.ndarray) -> dict[str, list]:
    """A product without a category has no name, description or photo count either, and a
    few products lack weight and size: both as in the real export."""
    named = catalogue.category >= 0
    names = np.array([category[0] for category in ref.CATEGORIES], dtype=object)
    known = catalogue.weight_known
    return {
        "product_id": product_ids.tolist(),
        "product_category_name": _optional(names[np.maximum(catalogue.category, 0)], named),
        "product_name_lenght": _optional(catalogue.name_length, named),
        "product_description_lenght": _optional(catalogue.description_length, named),
        "product_photos_qty": _optional(catalogue.photos, named),
        "product_weight_g": _optional(catalogue.weight, known),
        "product_length_cm": _optional(catalogue.length, known),
        "product_height_cm": _optional(catalogue.height, known),
        "product_width_cm": _optional(catalogue.width, known),
    }


def _manifest(orders, days, seed, end_date, export, rows, status, steps, payments) -> dict:
    statuses = Counter(np.array(ref.STATUSES)[status].tolist())
    kinds = Counter(np.array(ref.PAYMENT_TYPES)[payments.first_kind].tolist())
    handed, delivered = int(steps.carrier.sum()), int(steps.delivered.sum())
    late_handoffs, late_deliveries = int(steps.late_handoff.sum()), int(steps.late_delivery.sum())
    return {
        "parameters": {
            "shape": "marketplace",
            "orders": orders,
            "days": days,
            "seed": seed,
            "end_date": end_date.isoformat(),
            "timezone": ref.TIMEZONE,
        },
        "export_at_utc": dt.datetime.fromtimestamp(export, dt.UTC)
        .replace(tzinfo=None)
        .isoformat(sep=" "),
        "folder": FOLDER,
        "rows": rows,
        "order_status": {name: statuses.get(name, 0) for name in ref.STATUSES},
        "handed_to_carrier": handed,
        "late_handoffs": late_handoffs,
        "late_handoff_share": round(late_handoffs / max(handed, 1), 5),
        "delivered": delivered,
        "late_deliveries": late_deliveries,
        "late_delivery_share": round(late_deliveries / max(delivered, 1), 5),
        "payment_types": {name: kinds.get(name, 0) for name in ref.PAYMENT_TYPES},
    }
