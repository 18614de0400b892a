"""Every accepted format and encoding lands the same typed rows; the encoding is detected."""

from ingestion_helpers import ledger, quarantined

from pipelines.defs.ingestion import ingest_table


def test_utf8_with_bom_reads_the_first_header(warehouse, inbox_with):
    summary = ingest_table("order_lines", warehouse, inbox_with("utf8_bom"))

    assert summary.files[0].encoding == "utf-8-sig"
    assert "read as utf-8-sig" in ledger(warehouse, "order_lines")[0]["message"]
    assert warehouse.execute(
        "select order_id, quantity from raw.order_lines order by order_id"
    ).fetchall() == [("O1001", 2), ("O1002", 1)]


def test_gbk_file_is_detected_and_chinese_text_kept(warehouse, inbox_with):
    summary = ingest_table("orders", warehouse, inbox_with("gbk"))

    assert summary.files[0].encoding == "gb18030"
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (2, 2, 0)
    rows = warehouse.execute(
        "select merchant_name, receiver_name, address, placed_at::varchar, paid_amount "
        "from raw.orders order by order_id"
    ).fetchall()
    assert rows[0][:4] == ("杭州优品服饰", "张伟", "文三路100号3幢502室", "2026-11-01 00:00:00")
    # An unpaid order and an invalid phone are business exceptions, loaded as they are.
    assert rows[1][4] is None
    assert warehouse.execute(
        "select receiver_phone from raw.orders where order_id = 'O1002'"
    ).fetchall() == [("1391234",)]


def test_json_lines_keep_line_numbers_and_quarantine_a_broken_line(warehouse, inbox_with):
    summary = ingest_table("tracking_events", warehouse, inbox_with("json_lines"))

    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (4, 2, 2)
    assert summary.extra_columns == {"logistics/tracking_events_2026-11-01.jsonl": ["extra"]}
    reasons = quarantined(warehouse, "tracking_events")
    assert reasons[0][:2] == (3, "event_type")
    assert reasons[1][0] == 4 and reasons[1][2].startswith("the line is not valid JSON")
    assert warehouse.execute(
        "select event_id, location, event_at::varchar from raw.tracking_events order by 1"
    ).fetchall() == [
        ("T1", "杭州市", "2026-11-01 10:00:00"),
        ("T2", "嘉兴市", "2026-11-01 18:30:00"),
    ]


def test_parquet_typed_columns_are_checked_like_text(warehouse, inbox_with):
    inbox = inbox_with("parquet")
    snapshots = ingest_table("stock_snapshots", warehouse, inbox)
    shipments = ingest_table("shipments", warehouse, inbox)

    assert (snapshots.rows_read, snapshots.rows_loaded, snapshots.rows_quarantined) == (3, 2, 1)
    assert quarantined(warehouse, "stock_snapshots") == [
        (3, "safety_stock", "safety_stock is empty but must be filled")
    ]
    # A negative available stock is an oversold SKU: a business exception, not bad input.
    assert warehouse.execute(
        "select sku, available from raw.stock_snapshots order by sku"
    ).fetchall() == [("TS01-L-WHT", -1), ("TS01-M-BLK", 8)]
    assert (shipments.rows_loaded, shipments.rows_quarantined) == (2, 0)
    assert warehouse.execute(
        "select created_at::varchar, promised_delivery_at::varchar from raw.shipments "
        "where shipment_id = 'S1'"
    ).fetchall() == [("2026-11-01 00:00:00", "2026-11-03 10:00:00")]


def test_taobao_profile_maps_a_gbk_export_with_chinese_headers(warehouse, inbox_with):
    inbox = inbox_with("taobao")
    orders = ingest_table("orders", warehouse, inbox)
    events = ingest_table("order_events", warehouse, inbox)

    assert orders.files[0].profile == "taobao_orders"
    assert orders.files[0].encoding == "gb18030"
    assert (orders.rows_read, orders.rows_loaded, orders.rows_quarantined) == (4, 4, 0)
    assert warehouse.execute(
        """
        select channel, merchant_id, province, city, district, address, receiver_phone,
            placed_at::varchar, paid_amount::varchar
        from raw.orders where order_id = '3871234567890123'
        """
    ).fetchall() == [
        (
            "taobao",
            "M001",
            "浙江省",
            "杭州市",
            "西湖区",
            "文三路100号 3幢502室",
            "13812345678",
            "2026-11-01 00:00:00",
            "118.00",
        )
    ]
    # No mobile given: the landline is the phone (the models flag it as invalid, not us).
    assert warehouse.execute(
        "select receiver_phone, placed_at::varchar from raw.orders "
        "where order_id = '3871234567890124'"
    ).fetchall() == [("010-88886666", "2026-11-01 01:15:00")]

    assert (events.rows_read, events.rows_loaded, events.rows_quarantined) == (4, 3, 1)
    assert warehouse.execute(
        "select order_id, event_type, event_at::varchar, detail from raw.order_events order by 1"
    ).fetchall() == [
        ("3871234567890123", "shipped", "2026-11-01 00:01:30", "交易成功"),
        ("3871234567890124", "created", "2026-11-01 01:15:00", "等待买家付款"),
        ("3871234567890125", "paid", "2026-11-01 02:21:00", "买家已付款，等待卖家发货"),
    ]
    ((line, column, reason),) = quarantined(warehouse, "order_events")
    assert (line, column) == (5, "event_type")
    assert reason.startswith("event_type '已发货待签收' is not one of: created, paid")


def test_every_shipped_profile_loads_and_names_contract_tables():
    from pipelines import settings
    from pipelines.contract import load_contract
    from pipelines.defs.ingestion.profiles import load_profiles

    profiles = {profile.name: profile for profile in load_profiles(settings.profiles_dir())}

    assert set(profiles) == {"default", "taobao_orders", "olist"}
    assert set(profiles["default"].tables) == set(load_contract())
    assert set(profiles["taobao_orders"].tables) == {"orders", "order_events"}
    assert profiles["olist"].tables["order_events"].claims("olist_orders_dataset.csv")
    assert profiles["olist"].timezone == "America/Sao_Paulo"
    assert profiles["default"].tables["order_lines"].claims("order_lines_2026-11-01.csv")
    assert not profiles["default"].tables["orders"].claims("order_lines_2026-11-01.csv")


def test_a_file_no_profile_claims_is_listed_not_dropped(warehouse, inbox_with):
    inbox = inbox_with("clean")
    (inbox / "orders" / "export_from_erp.csv").write_text("whatever\n1\n", "utf-8")

    summary = ingest_table("order_lines", warehouse, inbox)
    orders = ingest_table("orders", warehouse, inbox)  # the first table of the folder's domain
    again = ingest_table("orders", warehouse, inbox)

    assert summary.unclaimed_files == orders.unclaimed_files == ["orders/export_from_erp.csv"]
    assert summary.rows_loaded == 3
    # in the ledger, once, with what to do: the accounting a person reads shows it
    (entry,) = [e for e in ledger(warehouse, "orders") if e["status"] == "not_claimed"]
    assert entry["source_file"] == "orders/export_from_erp.csv"
    assert entry["message"].startswith("no source profile claims it")
    assert [f.source_file for f in again.files if f.status == "not_claimed"] == []


def test_stock_counts_may_carry_what_is_on_order_or_not(warehouse, tmp_path):
    """in_transit_qty and expected_arrival_date are optional: an export with them lands them
    typed, one without them lands the same rows with both empty."""
    header = "snapshot_date,warehouse_id,sku,on_hand,allocated,available,safety_stock"
    stock = tmp_path / "inbox" / "stock"
    stock.mkdir(parents=True)
    (stock / "stock_snapshots_2026-11-01.csv").write_text(
        f"{header},in_transit_qty,expected_arrival_date\n"
        "2026-11-01,WH01,TS01-M-BLK,8,0,8,5,40,2026-11-04\n"
        "2026-11-01,WH01,TS01-L-WHT,3,0,3,5,0,\n",
        encoding="utf-8",
    )
    (stock / "stock_snapshots_2026-11-02.csv").write_text(
        f"{header}\n2026-11-02,WH01,TS01-M-BLK,6,0,6,5\n", encoding="utf-8"
    )

    summary = ingest_table("stock_snapshots", warehouse, tmp_path / "inbox")

    assert (summary.rows_loaded, summary.rows_quarantined) == (3, 0)
    assert warehouse.execute(
        "select snapshot_date::varchar, sku, in_transit_qty, expected_arrival_date::varchar "
        "from raw.stock_snapshots order by snapshot_date, sku"
    ).fetchall() == [
        ("2026-11-01", "TS01-L-WHT", 0, None),
        ("2026-11-01", "TS01-M-BLK", 40, "2026-11-04"),
        ("2026-11-02", "TS01-M-BLK", None, None),
    ]
    types = dict(
        warehouse.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'stock_snapshots'"
        ).fetchall()
    )
    assert (types["in_transit_qty"], types["expected_arrival_date"]) == ("INTEGER", "DATE")


def test_a_warehouse_made_before_the_in_transit_columns_gains_them(warehouse, tmp_path):
    """An upgrade: raw.stock_snapshots was made without the in-transit pair. The next
    ingestion adds both (null on the rows loaded before) and loads the new export's values."""
    warehouse.execute("create schema raw")
    warehouse.execute(
        "create table raw.stock_snapshots (snapshot_date date, warehouse_id varchar, sku varchar,"
        " on_hand integer, allocated integer, available integer, safety_stock integer,"
        " _source_file varchar, _source_line bigint, _file_hash varchar, _ingested_at timestamp)"
    )
    warehouse.execute(
        "insert into raw.stock_snapshots values ('2026-10-31', 'WH01', 'TS01-M-BLK', 9, 0, 9, 5,"
        " 'stock/stock_snapshots_2026-10-31.csv', 2, 'h', '2026-10-31 01:00:00')"
    )
    stock = tmp_path / "inbox" / "stock"
    stock.mkdir(parents=True)
    (stock / "stock_snapshots_2026-11-01.csv").write_text(
        "snapshot_date,warehouse_id,sku,on_hand,allocated,available,safety_stock,"
        "in_transit_qty,expected_arrival_date\n2026-11-01,WH01,TS01-M-BLK,8,0,8,5,40,2026-11-04\n",
        encoding="utf-8",
    )

    summary = ingest_table("stock_snapshots", warehouse, tmp_path / "inbox")

    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 0)
    assert warehouse.execute(
        "select snapshot_date::varchar, in_transit_qty, expected_arrival_date::varchar "
        "from raw.stock_snapshots order by snapshot_date"
    ).fetchall() == [("2026-10-31", None, None), ("2026-11-01", 40, "2026-11-04")]
