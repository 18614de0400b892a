"""The generated inbox: one file per table and day, contract columns, realistic values."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from generator_sample import END_DATE, make_sample

from pipelines.contract import load_contract

MOBILE = re.compile(r"1[3-9][0-9]{9}")
FILE_NAME = re.compile(r"(?P<table>[a-z_]+)_(?P<day>\d{4}-\d{2}-\d{2})\.(csv|parquet)")


def _files(inbox, table):
    domain = load_contract()[table].domain
    return sorted((inbox / domain).glob(f"{table}_*.*"))


def test_every_contract_table_has_daily_files_with_exactly_the_contract_columns(sample):
    for name, table in load_contract().items():
        files = _files(sample.inbox, name)
        assert files, f"no files for {name}"
        for path in files:
            match = FILE_NAME.fullmatch(path.name)
            assert match and match["table"] == name
            header = path.read_text(encoding="utf-8").splitlines()[0]
            assert header.replace('"', "").split(",") == table.column_names, path.name
    first_day = END_DATE - dt.timedelta(days=29)
    order_days = {FILE_NAME.fullmatch(p.name)["day"] for p in _files(sample.inbox, "orders")}
    assert order_days == {str(first_day + dt.timedelta(days=n)) for n in range(30)}
    assert [p.name for p in _files(sample.inbox, "skus")] == [f"skus_{END_DATE}.csv"]


def test_rows_sit_in_the_file_of_their_local_day_and_nothing_is_after_the_cutoff(sample):
    checks = {
        "orders": "placed_at",
        "order_events": "event_at",
        "tracking_events": "event_at",
        "shipments": "created_at",
        "tickets": "opened_at",
        "handling_log": "action_at",
    }
    for name, column in checks.items():
        for path in _files(sample.inbox, name):
            times = pacsv.read_csv(path).column(column).to_pylist()
            day = FILE_NAME.fullmatch(path.name)["day"]
            assert {time.date().isoformat() for time in times} == {day}, path.name
            assert max(times) < dt.datetime.combine(END_DATE + dt.timedelta(days=1), dt.time())


def test_clean_orders_have_valid_mobiles_and_full_addresses(sample):
    truth = sample.truth.to_pylist()
    flagged = {
        row["order_id"]
        for row in truth
        if row["exception_type"] in ("phone_invalid", "address_incomplete", "receiver_missing")
    }
    orders = duckdb.execute(
        "select * from read_csv(?, all_varchar = true)",
        [str(sample.inbox / "orders" / "orders_*.csv")],
    ).fetchall()
    columns = load_contract()["orders"].column_names
    clean = [dict(zip(columns, row, strict=True)) for row in orders if row[0] not in flagged]
    assert len(clean) > 7_000
    assert all(MOBILE.fullmatch(order["receiver_phone"]) for order in clean)
    assert all(re.search(r"\d+号.*\d+栋\d+室", order["address"]) for order in clean)
    assert all(order["receiver_name"] and order["district"] for order in clean)
    channels = {order["channel"] for order in clean}
    assert channels == {"taobao", "jd", "pinduoduo", "douyin", "own_shop"}
    assert {"新疆维吾尔自治区", "西藏自治区", "青海省"} <= {order["province"] for order in clean}


def test_skus_are_product_size_colour_and_lines_order_them(sample):
    skus = pacsv.read_csv(_files(sample.inbox, "skus")[0]).to_pylist()
    for sku in skus:
        product, size, _colour_code = sku["sku"].split("-")
        assert product == sku["product_id"] and size == sku["size"]
    assert {sku["status"] for sku in skus} == {"active", "discontinued"}
    products_with_variants = {sku["product_id"] for sku in skus}
    assert len(skus) > 2 * len(products_with_variants)


def test_stock_is_counted_for_every_warehouse_sku_and_day(sample):
    [(rows, days, warehouses, skus)] = duckdb.execute(
        "select count(*), count(distinct snapshot_date), count(distinct warehouse_id), "
        "count(distinct sku) from read_csv(?)",
        [str(sample.inbox / "stock" / "stock_snapshots_*.csv")],
    ).fetchall()
    assert (days, warehouses) == (30, 4)
    assert rows == days * warehouses * skus


def test_the_promotion_day_is_the_busiest(sample):
    per_day = {
        FILE_NAME.fullmatch(p.name)["day"]: p.read_text("utf-8").count("\n") - 1
        for p in _files(sample.inbox, "orders")
    }
    assert max(per_day, key=per_day.get) == "2026-11-11"
    assert per_day["2026-11-11"] > 2.5 * sorted(per_day.values())[len(per_day) // 2]


def test_parquet_format_writes_the_same_tables_with_naive_local_times(tmp_path):
    sample = make_sample(tmp_path, orders=1_500, days=10, file_format="parquet")
    orders = _files(sample.inbox, "orders")
    assert orders and all(path.suffix == ".parquet" for path in orders)
    table = pq.read_table(orders[-1])
    assert table.column_names == load_contract()["orders"].column_names
    placed = table.schema.field("placed_at").type
    assert placed.tz is None
    assert min(table.column("placed_at").to_pylist()).date() == END_DATE


def test_parquet_files_are_byte_identical_for_the_same_seed(tmp_path):
    first = make_sample(tmp_path / "first", orders=1_000, days=5, file_format="parquet")
    again = make_sample(tmp_path / "again", orders=1_000, days=5, file_format="parquet")
    first_files = sorted(first.inbox.rglob("*.parquet"))
    assert first_files
    for path in first_files:
        assert path.read_bytes() == (again.inbox / path.relative_to(first.inbox)).read_bytes()
