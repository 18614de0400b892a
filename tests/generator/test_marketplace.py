"""`oex generate --shape marketplace`: seven files in the Olist layout, read back as a profile
would read them (the csv module, local Sao Paulo times), checked against the truth."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.generator.marketplace import Clock, generate_marketplace

ZONE = ZoneInfo("America/Sao_Paulo")
END_DATE = dt.date(2018, 10, 31)
ORDERS = 2_000
HEX_ID = re.compile(r"[0-9a-f]{32}")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
HEADERS = {
    "olist_orders_dataset.csv": "order_id,customer_id,order_status,order_purchase_timestamp,"
    "order_approved_at,order_delivered_carrier_date,order_delivered_customer_date,"
    "order_estimated_delivery_date",
    "olist_order_items_dataset.csv": "order_id,order_item_id,product_id,seller_id,"
    "shipping_limit_date,price,freight_value",
    "olist_customers_dataset.csv": "customer_id,customer_unique_id,customer_zip_code_prefix,"
    "customer_city,customer_state",
    "olist_order_payments_dataset.csv": "order_id,payment_sequential,payment_type,"
    "payment_installments,payment_value",
    "olist_order_reviews_dataset.csv": "review_id,order_id,review_score,review_comment_title,"
    "review_comment_message,review_creation_date,review_answer_timestamp",
    "olist_products_dataset.csv": "product_id,product_category_name,product_name_lenght,"
    "product_description_lenght,product_photos_qty,product_weight_g,product_length_cm,"
    "product_height_cm,product_width_cm",
    "olist_sellers_dataset.csv": "seller_id,seller_zip_code_prefix,seller_city,seller_state",
}
STATUSES = {
    "delivered",
    "shipped",
    "canceled",
    "unavailable",
    "invoiced",
    "processing",
    "created",
    "approved",
}
REMOTE = {"AM", "RR", "AP", "PA", "MA", "CE", "PI", "RN", "PB", "PE", "AL", "SE", "BA"}


@dataclass
class Export:
    root: Path
    summary: str

    @property
    def folder(self) -> Path:
        return self.root / "inbox" / "marketplace"

    @property
    def manifest(self) -> dict:
        text = (self.root / "truth" / "marketplace_manifest.json").read_text(encoding="utf-8")
        return json.loads(text)

    def rows(self, name: str) -> list[dict[str, str]]:
        with (self.folder / name).open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    def truth(self) -> dict[str, dict]:
        table = pq.read_table(self.root / "truth" / "marketplace_orders.parquet")
        return {row["order_id"]: row for row in table.to_pylist()}


def _generate(root: Path, seed: int = 3, orders: int = ORDERS) -> Export:
    summary = generate_marketplace(
        orders=orders,
        days=730,
        seed=seed,
        end_date=END_DATE,
        inbox=root / "inbox",
        truth_dir=root / "truth",
    )
    return Export(root, summary)


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Export:
    return _generate(tmp_path_factory.mktemp("marketplace"))


def _utc(text: str) -> dt.datetime:
    """A local Sao Paulo time as written in the file, in UTC (naive, like the truth)."""
    local = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZONE)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def _end_of_day_utc(text: str) -> dt.datetime:
    """The last second of a local day; fold=1 is the later pass of a repeated 23:59:59."""
    day = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").date()
    local = dt.datetime.combine(day, dt.time(23, 59, 59, fold=1), tzinfo=ZONE)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def _is_real_local_time(text: str) -> bool:
    """Exists (survives a round trip through UTC) and occurs once (both folds agree)."""
    naive = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    first, second = naive.replace(tzinfo=ZONE, fold=0), naive.replace(tzinfo=ZONE, fold=1)
    round_trip = first.astimezone(dt.UTC).astimezone(ZONE).replace(tzinfo=None)
    return first.utcoffset() == second.utcoffset() and round_trip == naive


def _cents(text: str) -> int:
    assert re.fullmatch(r"\d+\.\d{2}", text), text
    return int(Decimal(text) * 100)


def test_every_file_has_olists_header_parses_with_csv_and_matches_the_manifest(export):
    assert sorted(path.name for path in export.folder.iterdir()) == sorted(HEADERS)
    rows = export.manifest["rows"]
    for name, header in HEADERS.items():
        raw = (export.folder / name).read_bytes()
        assert raw.split(b"\n", 1)[0].decode() == header, name
        assert b"\r" not in raw and raw.endswith(b"\n")
        parsed = export.rows(name)
        assert len(parsed) == rows[name] > 0, name
        assert all(len(row) == len(header.split(",")) and None not in row for row in parsed)
    assert rows["olist_orders_dataset.csv"] == rows["olist_customers_dataset.csv"] == ORDERS
    assert ORDERS < rows["olist_order_items_dataset.csv"] < 1.25 * ORDERS
    assert 0.8 * ORDERS / 3 < rows["olist_products_dataset.csv"] < 1.2 * ORDERS / 3
    assert 0.8 * ORDERS / 30 < rows["olist_sellers_dataset.csv"] < 1.2 * ORDERS / 30


def test_ids_are_olist_hex_and_every_reference_resolves(export):
    orders = export.rows("olist_orders_dataset.csv")
    customers = export.rows("olist_customers_dataset.csv")
    items = export.rows("olist_order_items_dataset.csv")
    order_ids = [order["order_id"] for order in orders]
    assert len(set(order_ids)) == len(order_ids)
    known = set(order_ids)
    for name in ("olist_order_items_dataset.csv", "olist_order_payments_dataset.csv"):
        assert {row["order_id"] for row in export.rows(name)} == known, name
    reviews = export.rows("olist_order_reviews_dataset.csv")
    assert {review["order_id"] for review in reviews} <= known
    assert len({review["review_id"] for review in reviews}) == len(reviews)
    # Olist: one customer row per order, both ways.
    assert sorted(order["customer_id"] for order in orders) == sorted(
        customer["customer_id"] for customer in customers
    )
    assert len({customer["customer_id"] for customer in customers}) == ORDERS
    products = {row["product_id"] for row in export.rows("olist_products_dataset.csv")}
    sellers = {row["seller_id"] for row in export.rows("olist_sellers_dataset.csv")}
    assert {item["product_id"] for item in items} == products
    assert {item["seller_id"] for item in items} == sellers
    every_id = (
        order_ids
        + [customer[key] for customer in customers for key in ("customer_id", "customer_unique_id")]
        + list(products)
        + list(sellers)
        + [review["review_id"] for review in reviews]
    )
    assert all(HEX_ID.fullmatch(value) for value in every_id)


def test_returning_customers_share_a_unique_id_and_an_address(export):
    customers = export.rows("olist_customers_dataset.csv")
    by_person = defaultdict(list)
    for customer in customers:
        by_person[customer["customer_unique_id"]].append(customer)
    repeat_orders = sum(len(rows) - 1 for rows in by_person.values())
    assert 0.015 * ORDERS < repeat_orders < 0.05 * ORDERS
    for rows in by_person.values():
        places = {(row["customer_zip_code_prefix"], row["customer_state"]) for row in rows}
        assert len(places) == 1
    zips = [customer["customer_zip_code_prefix"] for customer in customers]
    assert all(re.fullmatch(r"\d{5}", code) for code in zips)
    assert any(code.startswith("0") for code in zips)  # Sao Paulo city: leading zeros kept
    states = Counter(customer["customer_state"] for customer in customers)
    assert 0.36 < states["SP"] / ORDERS < 0.48 and 0.09 < states["RJ"] / ORDERS < 0.17
    assert len(states) >= 20
    cities = {customer["customer_city"] for customer in customers}
    assert {"sao paulo", "rio de janeiro", "belo horizonte"} <= cities
    assert all(city == city.lower() and city.isascii() for city in cities)


def test_payments_add_up_to_items_price_plus_freight_to_the_cent(export):
    items_total, paid, payments_of = Counter(), Counter(), defaultdict(list)
    for item in export.rows("olist_order_items_dataset.csv"):
        price, freight = _cents(item["price"]), _cents(item["freight_value"])
        assert 1_000 <= price <= 100_000 and 500 <= freight <= 6_000
        items_total[item["order_id"]] += price + freight
    for payment in export.rows("olist_order_payments_dataset.csv"):
        paid[payment["order_id"]] += _cents(payment["payment_value"])
        payments_of[payment["order_id"]].append(payment)
    assert paid == items_total
    truth = export.truth()
    for order_id, total in items_total.items():
        assert int(truth[order_id]["order_amount"] * 100) == total
        assert int(truth[order_id]["paid_amount"] * 100) == total
    kinds = Counter()
    for rows in payments_of.values():
        assert [int(row["payment_sequential"]) for row in rows] == list(range(1, len(rows) + 1))
        kind = rows[0]["payment_type"]
        kinds[kind] += 1
        assert len(rows) == 1 or (
            len(rows) <= 3 and {row["payment_type"] for row in rows} == {kind} == {"voucher"}
        )
        installments = {int(row["payment_installments"]) for row in rows}
        assert installments <= set(range(1, 11)) if kind == "credit_card" else installments == {1}
    assert kinds == Counter(export.manifest["payment_types"])
    assert 0.68 < kinds["credit_card"] / ORDERS < 0.80 and 0.15 < kinds["boleto"] / ORDERS < 0.23
    assert kinds["voucher"] > 0 and kinds["debit_card"] > 0


def test_every_status_shows_and_its_steps_are_the_ones_reached_in_time_order(export):
    orders = export.rows("olist_orders_dataset.csv")
    statuses = Counter(order["order_status"] for order in orders)
    assert set(statuses) == STATUSES and min(statuses.values()) >= 2
    assert statuses == Counter({k: v for k, v in export.manifest["order_status"].items() if v})
    assert statuses["delivered"] / ORDERS > 0.93
    steps = (
        "order_approved_at",
        "order_delivered_carrier_date",
        "order_delivered_customer_date",
    )
    reached = {
        "created": (False, False, False),
        "approved": (True, False, False),
        "processing": (True, False, False),
        "invoiced": (True, False, False),
        "unavailable": (True, False, False),
        "shipped": (True, True, False),
        "delivered": (True, True, True),
    }
    export_moment = dt.datetime(2018, 11, 1, 3)  # the night after END_DATE, in UTC
    canceled_approved = 0
    for order in orders:
        filled = tuple(bool(order[step]) for step in steps)
        if order["order_status"] == "canceled":
            assert not filled[2] and (filled[0] or not filled[1])
            canceled_approved += filled[0]
        else:
            assert filled == reached[order["order_status"]], order
        times = [_utc(order["order_purchase_timestamp"])]
        times += [_utc(order[step]) for step in steps if order[step]]
        assert times == sorted(times) and times[-1] < export_moment, order
        assert order["order_estimated_delivery_date"].endswith(" 00:00:00")
    assert 0 < canceled_approved < statuses["canceled"]
    purchases = [order["order_purchase_timestamp"] for order in orders]
    assert purchases == sorted(purchases)
    assert purchases[0] >= "2016-11-01" and purchases[-1] < "2018-11-01"


def test_no_written_time_is_skipped_or_repeated_by_daylight_saving(export):
    columns = {
        "olist_orders_dataset.csv": HEADERS["olist_orders_dataset.csv"].split(",")[3:],
        "olist_order_items_dataset.csv": ["shipping_limit_date"],
        "olist_order_reviews_dataset.csv": ["review_creation_date", "review_answer_timestamp"],
    }
    written = {
        row[column]
        for name, names in columns.items()
        for row in export.rows(name)
        for column in names
        if row[column]
    }
    assert all(TIMESTAMP.fullmatch(text) for text in written)
    assert all(_is_real_local_time(text) for text in written)


def test_the_clock_moves_repeated_and_missing_local_times_one_hour_on():
    clock = Clock.build(dt.date(2018, 2, 10), dt.date(2018, 11, 20))
    # 2018-02-17 23:00-23:59 occurs twice (01:00-02:00 UTC under summer time, then 02:00-03:00
    # UTC): both passes read 00:xx on the 18th after the move.
    night = int(dt.datetime(2018, 2, 18, 0, 30, tzinfo=dt.UTC).timestamp())
    utc = np.arange(night, night + 3 * 3_600, 600)
    moved = clock.unambiguous(utc)
    assert (moved >= utc).all()
    texts = clock.render(moved)
    assert all(_is_real_local_time(text) for text in texts)
    assert texts[0] == "2018-02-17 22:30:00" and texts[3] == "2018-02-18 00:00:00"
    assert texts[9] == "2018-02-18 00:00:00"  # the second pass's 23:00 moves to 00:00 as well
    # Midnight of 2018-11-04 does not exist (clocks jump to 01:00): dates move to the 5th.
    day = (dt.date(2018, 11, 4) - dt.date(1970, 1, 1)).days
    assert clock.existing_midnight(np.array([day - 1, day]))[1] == day + 1
    assert clock.render(clock.day_start(np.array([day + 1]))) == ["2018-11-05 00:00:00"]


def test_truth_lateness_agrees_with_the_csv_text_and_has_a_pattern(export):
    truth = export.truth()
    items = {item["order_id"]: item for item in export.rows("olist_order_items_dataset.csv")}
    state = {
        customer["customer_id"]: customer["customer_state"]
        for customer in export.rows("olist_customers_dataset.csv")
    }
    handed = late_handoffs = delivered = late_deliveries = on_the_day = 0
    late_by_region = defaultdict(Counter)
    for order in export.rows("olist_orders_dataset.csv"):
        row = truth[order["order_id"]]
        assert row["order_status"] == order["order_status"]
        assert row["placed_at_utc"] == _utc(order["order_purchase_timestamp"])
        limit = _utc(items[order["order_id"]]["shipping_limit_date"])
        assert row["shipping_limit_at_utc"] == limit
        promised_end = _end_of_day_utc(order["order_estimated_delivery_date"])
        assert row["promised_delivery_end_utc"] == promised_end
        if order["order_approved_at"]:
            approved = _utc(order["order_approved_at"])
            minutes = (approved - row["placed_at_utc"]).total_seconds() / 60
            assert row["approved_at_utc"] == approved
            assert row["approval_minutes"] == pytest.approx(minutes, abs=0.01)
        else:
            assert row["approved_at_utc"] is None and row["approval_minutes"] is None
        late_handoff = bool(order["order_delivered_carrier_date"]) and (
            _utc(order["order_delivered_carrier_date"]) > limit
        )
        late_delivery = bool(order["order_delivered_customer_date"]) and (
            _utc(order["order_delivered_customer_date"]) > promised_end
        )
        assert row["is_late_handoff"] == late_handoff, order
        assert row["is_late_delivery"] == late_delivery, order
        handed += bool(order["order_delivered_carrier_date"])
        late_handoffs += late_handoff
        if order["order_delivered_customer_date"]:
            delivered += 1
            late_deliveries += late_delivery
            on_the_day += (
                order["order_delivered_customer_date"][:10]
                == order["order_estimated_delivery_date"][:10]
            )
            region = "remote" if state[order["customer_id"]] in REMOTE else "near"
            late_by_region[region][late_delivery] += 1
    manifest = export.manifest
    assert (manifest["late_handoffs"], manifest["late_deliveries"]) == (
        late_handoffs,
        late_deliveries,
    )
    assert 0.05 < late_handoffs / handed < 0.15
    assert 0.05 < late_deliveries / delivered < 0.15
    assert on_the_day > 0  # delivered on the promised day: not late
    remote, near = late_by_region["remote"], late_by_region["near"]
    assert remote[True] / remote.total() > 1.5 * near[True] / near.total()


def test_reviews_carry_commas_quotes_and_line_breaks_and_still_parse(export):
    reviews = export.rows("olist_order_reviews_dataset.csv")
    raw_lines = (export.folder / "olist_order_reviews_dataset.csv").read_text(encoding="utf-8")
    assert raw_lines.count("\n") > len(reviews) + 1  # line breaks inside quoted messages
    messages = [review["review_comment_message"] for review in reviews]
    written = [message for message in messages if message]
    assert any("\n" in message for message in written)
    assert any("," in message and '"' in message for message in written)
    assert 0.3 < len(written) / len(reviews) < 0.5
    titles = [
        review["review_comment_title"] for review in reviews if review["review_comment_title"]
    ]
    assert 0 < len(titles) < 0.25 * len(reviews)
    scores = Counter(int(review["review_score"]) for review in reviews)
    assert set(scores) == {1, 2, 3, 4, 5} and scores.most_common(1)[0][0] == 5
    orders = {order["order_id"]: order for order in export.rows("olist_orders_dataset.csv")}
    delivered = [order for order in orders.values() if order["order_status"] == "delivered"]
    reviewed = {review["order_id"] for review in reviews}
    assert sum(order["order_id"] in reviewed for order in delivered) > 0.9 * len(delivered)
    for review in reviews:
        created, answered = review["review_creation_date"], review["review_answer_timestamp"]
        assert created.endswith(" 00:00:00")
        waited = _utc(answered) - _utc(created)
        assert dt.timedelta(days=1) <= waited <= dt.timedelta(days=5, hours=2)
        order = orders[review["order_id"]]
        after = order["order_delivered_customer_date"] or order["order_estimated_delivery_date"]
        assert created[:10] > after[:10]


def _digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_same_seed_writes_identical_bytes_and_another_seed_does_not(export, tmp_path):
    again = _generate(tmp_path / "again")
    other = _generate(tmp_path / "other", seed=4)
    first = _digests(export.root)
    assert len(first) == 9  # seven files, the truth and its manifest
    assert first == _digests(again.root)
    different = _digests(other.root)
    assert first.keys() == different.keys()
    assert all(first[name] != different[name] for name in first)


def test_the_command_line_keeps_china_as_the_default_and_refuses_what_marketplace_lacks(
    tmp_path,
):
    runner = CliRunner()
    folders = ["--inbox", str(tmp_path / "inbox"), "--truth", str(tmp_path / "truth")]
    china = runner.invoke(main, ["generate", "--orders", "300", "--days", "2", *folders])
    assert china.exit_code == 0, china.output
    assert sorted((tmp_path / "inbox" / "orders").glob("orders_*.csv"))
    exceptions = (tmp_path / "truth" / "exceptions.parquet").read_bytes()

    marketplace = ["generate", "--shape", "marketplace", "--orders", "500", *folders]
    result = runner.invoke(main, marketplace)
    assert result.exit_code == 0, result.output
    assert "500 marketplace orders over 730 days" in result.output
    manifest = json.loads((tmp_path / "truth" / "marketplace_manifest.json").read_text())
    assert manifest["parameters"]["end_date"] == "2018-10-31"
    # The china shape's truth is left alone.
    assert (tmp_path / "truth" / "exceptions.parquet").read_bytes() == exceptions

    for extra, word in (
        (["--format", "parquet"], "--format"),
        (["--bad-rows", "0.1"], "--bad-rows"),
    ):
        refused = runner.invoke(main, [*marketplace, *extra])
        assert refused.exit_code == 2 and word in refused.output and "marketplace" in refused.output
