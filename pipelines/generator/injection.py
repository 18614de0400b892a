"""Choose which orders carry which exception, and change their header and lines to match.

Each sub-type gets its own orders (disjoint draws), so the share of orders with an exception is
close to the sum of the shares; the truth module later finds everything that is observable,
including exceptions an injected cause implies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipelines.generator import lateness
from pipelines.generator import reference as ref
from pipelines.generator.catalogue import Catalogue
from pipelines.generator.exception_types import EXCEPTION_TYPES, MINIMUM_PER_TYPE
from pipelines.generator.orders import DAY, Calendar, Lines, Orders, excluded_pairs, line_starts

# Codes decided by the stock snapshot cell, drawn in the stock module, not per order.
CELL_CODES = ("below_safety_stock", "oversold", "stock_mismatch")
# Orders that find their item run out, which the stock module finds once the lines are final.
STOCK_OUT_CODE = "out_of_stock"
# Codes that need a delivered (or at least shipped) parcel: drawn from orders old enough.
LATE_CODES = (
    "late_handoff",
    "delivery_overdue",
    "tracking_stalled",
    "rejected_by_recipient",
    "returned_to_sender",
    "lost_or_damaged",
    "wrong_item",
    "missing_item",
)
SPECIAL_REQUESTS = (
    "礼品包装，附手写贺卡：生日快乐",
    "请用纸箱加固包装，易碎品",
    "不要放发票和价格单",
    "附手写贺卡：祝你新年快乐",
    "请使用环保包装",
)
# Empty, too short, not a mobile prefix, a landline, too long, letters in it.
UNREACHABLE_PHONES = (
    "",
    "1381234567",
    "12812345678",
    "021-62345678",
    "138123456789",
    "1390000abcd",
)


@dataclass
class Injected:
    """Which orders carry which injected exception, and the order changes that go with it."""

    orders_of: dict[str, np.ndarray]
    duplicate_of: np.ndarray  # aligned with orders_of["duplicate_order"]
    address_problem: np.ndarray  # 0 none, 1 no house number, 2 no district, 3 no city
    phone_text: dict[int, str] = field(default_factory=dict)
    designated_carrier: np.ndarray | None = None  # carrier index or -1
    special_request: np.ndarray | None = None  # index into SPECIAL_REQUESTS or -1
    is_expedited: np.ndarray | None = None
    paid_amount_delta: np.ndarray | None = None  # cents added to the amount paid
    unknown_sku_text: dict[int, str] = field(default_factory=dict)  # line -> sku as ordered
    # Set by mark_stock_outs: per order, the SKU (catalogue index) its stock_out event names
    # and when the replenishment covering it is in (local seconds).
    stock_out_sku: np.ndarray | None = None
    restocked_at: np.ndarray | None = None

    def has(self, code: str, count: int) -> np.ndarray:
        mask = np.zeros(count, dtype=bool)
        mask[self.orders_of.get(code, np.empty(0, dtype=np.int64))] = True
        return mask


def _count(share: float, total: int) -> int:
    return max(MINIMUM_PER_TYPE, round(share * total))


def choose_orders(
    rng: np.random.Generator, orders: Orders, calendar: Calendar, custom_rules: ref.CustomRules
) -> Injected:
    total = len(orders)
    taken = np.zeros(total, dtype=bool)
    # A cause needs a little time to start (a parcel to be handed over); whether it is visible by
    # the cutoff is the truth's question, so the last week has its share of causes that have not
    # shown yet, as a real export does.
    old_enough = orders.placed < calendar.cutoff - 1 * DAY
    if old_enough.sum() < 200:
        old_enough[:] = True
    excluded = excluded_pairs(custom_rules)
    has_excluded_carrier = excluded.any(axis=0)[orders.destination]
    orders_of: dict[str, np.ndarray] = {}
    duplicate_of = np.empty(0, dtype=np.int64)

    def merchants_with(code: str) -> np.ndarray:
        switched_on = [
            int(merchant_id[1:]) - 1 for merchant_id in custom_rules.merchants_with.get(code, ())
        ]
        return np.isin(orders.merchant, switched_on)

    for exception_type in EXCEPTION_TYPES:
        code = exception_type.code
        if code in CELL_CODES or code == STOCK_OUT_CODE:
            continue
        eligible = ~taken
        if code in LATE_CODES:
            eligible &= old_enough
        if code == "out_of_delivery_range":
            eligible &= has_excluded_carrier
        if code == "presale_mixed":
            eligible &= merchants_with(code) & (orders.line_count >= 2)
        if code in ("remote_region_note", "heavy_parcel"):
            eligible &= merchants_with(code)
        if code == "duplicate_order":
            # The twin is the next order placed, with the same number of lines to copy.
            eligible[-1] = False
            eligible[:-1] &= ~taken[1:] & (orders.line_count[:-1] == orders.line_count[1:])
            eligible &= orders.placed < calendar.cutoff - 600  # the twin stays before the cutoff
        candidates = np.flatnonzero(eligible)
        count = min(len(candidates), _count(exception_type.share, total))
        if code == "duplicate_order":
            count //= 2  # both the original and its twin are kept clear of other injections
        if code in lateness.WEIGHTS:
            weights = lateness.WEIGHTS[code](orders, calendar)[candidates]
            chosen = np.sort(lateness.weighted_sample(rng, candidates, weights, count))
        else:
            chosen = np.sort(rng.choice(candidates, size=count, replace=False))
        if code == "duplicate_order":
            chosen = chosen[np.diff(chosen, prepend=-2) > 1]  # no order is both
            duplicate_of = chosen
            chosen = chosen + 1
            taken[duplicate_of] = True
        taken[chosen] = True
        orders_of[code] = chosen
    return Injected(
        orders_of=orders_of,
        duplicate_of=duplicate_of,
        address_problem=np.zeros(total, dtype=np.int8),
    )


def change_orders(
    rng: np.random.Generator,
    orders: Orders,
    lines: Lines,
    catalogue: Catalogue,
    injected: Injected,
    custom_rules: ref.CustomRules,
) -> None:
    """Make each chosen order look the way its exception looks in a real export."""
    total = len(orders)
    of = injected.orders_of
    _send_to_remote_regions(rng, orders, of["remote_region_note"], custom_rules)
    _send_out_of_range(rng, orders, of["out_of_delivery_range"], custom_rules)

    injected.designated_carrier = np.full(total, -1, dtype=np.int64)
    designated = of["designated_carrier"]
    preferred = np.where(
        rng.random(len(designated)) < 0.7,
        ref.CARRIERS.index("sf"),
        ref.CARRIERS.index("jd_logistics"),
    )
    serves = ~excluded_pairs(custom_rules)[preferred, orders.destination[designated]]
    preferred = np.where(serves, preferred, ref.CARRIERS.index("sf"))
    injected.designated_carrier[designated] = preferred
    orders.carrier[designated] = preferred

    injected.is_expedited = injected.has("expedited", total)
    injected.special_request = np.full(total, -1, dtype=np.int64)
    packaging = of["special_packaging"]
    injected.special_request[packaging] = rng.integers(0, len(SPECIAL_REQUESTS), len(packaging))

    injected.paid_amount_delta = np.zeros(total, dtype=np.int64)
    mismatch = of["amount_mismatch"]
    # A coupon the platform applied but the ERP did not, or a shipping fee on top.
    delta = np.where(
        rng.random(len(mismatch)) < 0.6,
        -rng.integers(1, 31, len(mismatch)) * 100,
        rng.choice([600, 800, 1000], len(mismatch)),
    )
    injected.paid_amount_delta[mismatch] = delta

    incomplete = of["address_incomplete"]
    injected.address_problem[incomplete] = rng.integers(1, 4, len(incomplete))
    for order in of["phone_invalid"].tolist():
        injected.phone_text[order] = UNREACHABLE_PHONES[order % len(UNREACHABLE_PHONES)]

    _copy_twins(rng, orders, lines, injected)
    _break_skus(rng, orders, lines, catalogue, injected)
    _mix_presale(rng, orders, lines, of["presale_mixed"], custom_rules)
    _make_heavy(orders, lines, catalogue, of["heavy_parcel"])


def _send_to_remote_regions(rng, orders: Orders, chosen: np.ndarray, custom_rules) -> None:
    remote = [index for index, row in enumerate(ref.DESTINATIONS) if row[0] in ref.REMOTE_PROVINCES]
    orders.destination[chosen] = rng.choice(remote, len(chosen))
    serves = ~excluded_pairs(custom_rules)[orders.carrier[chosen], orders.destination[chosen]]
    orders.carrier[chosen] = np.where(
        serves, orders.carrier[chosen], ref.CARRIERS.index(ref.FALLBACK_CARRIER)
    )


def _send_out_of_range(rng, orders: Orders, chosen: np.ndarray, custom_rules) -> None:
    """The carrier drawn does not serve the province: the rules table's out_of_delivery_range."""
    excluded = excluded_pairs(custom_rules)[:, orders.destination[chosen]]  # carrier x order
    # A random carrier among those excluded for each order's province.
    score = rng.random(excluded.shape) + excluded
    orders.carrier[chosen] = np.argmax(score, axis=0)


def _copy_twins(rng, orders: Orders, lines: Lines, injected: Injected) -> None:
    """A duplicate push: same platform number, receiver and lines, seconds to minutes later."""
    originals, twins = injected.duplicate_of, injected.orders_of["duplicate_order"]
    for name in (
        "merchant",
        "channel",
        "destination",
        "warehouse",
        "carrier",
        "surname",
        "given_name",
        "phone",
        "street",
        "house_number",
        "compound",
        "building",
        "room",
        "platform_number",
        "priority_high",
    ):
        getattr(orders, name)[twins] = getattr(orders, name)[originals]
    orders.placed[twins] = orders.placed[originals] + rng.integers(5, 600, len(twins))
    starts = line_starts(orders)
    for offset in range(int(orders.line_count.max(initial=1))):
        has_line = orders.line_count[twins] > offset
        source = starts[originals[has_line]] + offset
        target = starts[twins[has_line]] + offset
        lines.sku[target] = lines.sku[source]
        lines.quantity[target] = lines.quantity[source]


def _break_skus(
    rng, orders: Orders, lines: Lines, catalogue: Catalogue, injected: Injected
) -> None:
    starts = line_starts(orders)
    of = injected.orders_of
    for order, line in zip(
        of["sku_unknown"].tolist(), starts[of["sku_unknown"]].tolist(), strict=True
    ):
        # A product code the master never had: a typo in the shop's listing.
        injected.unknown_sku_text[line] = f"XP{90000 + order % 9973:05d}-STD-BLK"
        lines.sku[line] = -1
    for line in starts[of["variant_unavailable"]].tolist():
        product = catalogue.product_id[lines.sku[line]]
        options = catalogue.missing_variants[product]
        size, colour = options[line % len(options)]
        injected.unknown_sku_text[line] = f"{product}-{size}-{colour}"
        lines.sku[line] = -1
    # Each merchant has at least one discontinued SKU (see the catalogue).
    discontinued_order = of["sku_discontinued"]
    discontinued = np.flatnonzero(catalogue.is_discontinued)
    by_merchant = catalogue.merchant_index[discontinued]
    first = np.searchsorted(by_merchant, orders.merchant[discontinued_order], side="left")
    count = np.searchsorted(by_merchant, orders.merchant[discontinued_order], side="right") - first
    pick = first + (rng.random(len(discontinued_order)) * count).astype(np.int64)
    lines.sku[starts[discontinued_order]] = discontinued[pick]


def _mix_presale(rng, orders: Orders, lines: Lines, chosen: np.ndarray, custom_rules) -> None:
    """Presale orders are ordinary (all lines presale); mixing is an exception only for merchants
    who switched the rule on, so the others mix now and then without being flagged."""
    switched_on = [
        int(merchant_id[1:]) - 1
        for merchant_id in custom_rules.merchants_with.get("presale_mixed", ())
    ]
    presale_orders = rng.random(len(orders)) < 0.02
    presale_orders[chosen] = False
    lines.is_presale[presale_orders[lines.order]] = True
    starts = line_starts(orders)
    others_mixing = np.flatnonzero(
        (rng.random(len(orders)) < 0.01)
        & (orders.line_count >= 2)
        & ~np.isin(orders.merchant, switched_on)
        & ~presale_orders
    )
    lines.is_presale[starts[others_mixing]] = True
    lines.is_presale[starts[chosen]] = True  # first line presale, the rest in stock


def _make_heavy(orders: Orders, lines: Lines, catalogue: Catalogue, chosen: np.ndarray) -> None:
    """The merchant's heaviest SKU, enough units to pass 5 kg."""
    on_sale_weight = np.where(catalogue.is_discontinued, -1, catalogue.weight_grams)
    heaviest = np.array(
        [
            np.flatnonzero(catalogue.merchant_index == merchant)[
                np.argmax(on_sale_weight[catalogue.merchant_index == merchant])
            ]
            for merchant in range(int(catalogue.merchant_index.max()) + 1)
        ]
    )[orders.merchant[chosen]]
    first_lines = line_starts(orders)[chosen]
    lines.sku[first_lines] = heaviest
    lines.quantity[first_lines] = 5_600 // catalogue.weight_grams[heaviest] + 1
