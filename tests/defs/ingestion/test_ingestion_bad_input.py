"""Each kind of bad input of issue 2: a clear rejection or a quarantined row, never a crash,
never a silent drop; rows read = rows loaded + rows quarantined for every file."""

from ingestion_helpers import count, ledger, quarantined

from pipelines.defs.ingestion import ingest_table


def test_unreadable_encoding_rejects_the_file_with_the_offending_bytes(warehouse, inbox_with):
    summary = ingest_table("order_lines", warehouse, inbox_with("unreadable_encoding"))

    (entry,) = ledger(warehouse, "order_lines")
    assert entry["status"] == "rejected"
    assert "neither UTF-8 nor GBK/GB18030" in entry["message"]
    assert "ff fe 81 20" in entry["message"]
    assert (entry["rows_read"], entry["rows_loaded"], entry["rows_quarantined"]) == (0, 0, 0)
    assert count(warehouse, "order_lines") == 0
    assert quarantined(warehouse, "order_lines") == []
    assert list(summary.rejected) == ["orders/order_lines_2026-11-01.csv"]


def test_missing_required_columns_reject_the_file_naming_them(warehouse, inbox_with):
    summary = ingest_table("order_lines", warehouse, inbox_with("missing_columns"))

    (entry,) = ledger(warehouse, "order_lines")
    assert entry["status"] == "rejected"
    assert entry["message"].startswith("missing required columns: quantity, unit_price.")
    assert summary.files[0].missing_columns == ["quantity", "unit_price"]
    assert count(warehouse, "order_lines") == 0
    assert quarantined(warehouse, "order_lines") == []


def test_extra_columns_are_ignored_and_said(warehouse, inbox_with):
    summary = ingest_table("order_lines", warehouse, inbox_with("extra_columns"))

    assert summary.extra_columns == {"orders/order_lines_2026-11-01.csv": ["商品名称", "remark"]}
    assert (
        "columns not in the contract, ignored: 商品名称, remark"
        in ledger(warehouse, "order_lines")[0]["message"]
    )
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (2, 2, 0)
    columns = [row[0] for row in warehouse.execute("describe raw.order_lines").fetchall()]
    assert "remark" not in columns


def test_wrong_types_quarantine_the_row_naming_column_and_value(warehouse, inbox_with):
    summary = ingest_table("order_lines", warehouse, inbox_with("wrong_types"))

    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (4, 1, 3)
    assert quarantined(warehouse, "order_lines") == [
        (3, "quantity", "quantity 'two' is not a whole number"),
        (
            4,
            "unit_price",
            "unit_price '¥299' is not an amount; is_presale 'maybe' is not true or false",
        ),
        (5, "line_number", "line_number '1.5' is not a whole number"),
    ]
    record = warehouse.execute(
        "select raw_record::json ->> 'quantity' from raw.quarantine where line_number = 3"
    ).fetchall()[0][0]
    assert record == "two"


def test_unparseable_and_future_timestamps_are_quarantined(warehouse, inbox_with):
    summary = ingest_table("order_events", warehouse, inbox_with("timestamps"))

    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (6, 3, 3)
    assert quarantined(warehouse, "order_events") == [
        (4, "event_at", "event_at '01-11-2026 8h' is not a time in a known format"),
        (5, "event_at", "event_at '2031-01-01 00:00:00' is in the future"),
        (7, "event_at", "event_at is empty but must be filled"),
    ]
    loaded = warehouse.execute(
        "select event_id, event_at from raw.order_events order by event_id"
    ).fetchall()
    # Naive times are Asia/Shanghai (stored as UTC); 'Z' is already UTC.
    assert [(event_id, str(event_at)) for event_id, event_at in loaded] == [
        ("E1", "2026-11-01 00:00:00"),
        ("E2", "2026-11-01 00:05:00"),
        ("E5", "2026-11-01 00:10:00"),
    ]


def test_zero_and_negative_quantities_are_quarantined(warehouse, inbox_with):
    summary = ingest_table("order_lines", warehouse, inbox_with("quantities"))

    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (4, 1, 3)
    assert quarantined(warehouse, "order_lines") == [
        (3, "quantity", "quantity must be greater than zero, got 0"),
        (4, "quantity", "quantity must be greater than zero, got -1"),
        (5, "line_number", "line_number must be greater than zero, got 0"),
    ]


def test_duplicate_keys_in_a_file_keep_the_first_and_quarantine_the_rest(warehouse, inbox_with):
    summary = ingest_table("order_lines", warehouse, inbox_with("duplicate_keys"))

    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (5, 3, 2)
    assert quarantined(warehouse, "order_lines") == [
        (
            4,
            "order_id",
            "duplicate key order_id=O1001, line_number=1: the same key is already "
            "on line 2 of this file",
        ),
        (
            6,
            "order_id",
            "duplicate key order_id=O1001, line_number=1: the same key is already "
            "on line 2 of this file",
        ),
    ]
    kept = warehouse.execute(
        "select sku, quantity from raw.order_lines where order_id = 'O1001' and line_number = 1"
    ).fetchall()
    assert kept == [("TS01-M-BLK", 2)]


def test_empty_file_and_header_only_file_load_nothing_and_say_so(warehouse, inbox_with):
    inbox = inbox_with("empty_files")
    lines = ingest_table("order_lines", warehouse, inbox)  # 0 bytes
    events = ingest_table("order_events", warehouse, inbox)  # header only

    for summary in (lines, events):
        (outcome,) = summary.files
        assert outcome.status == "loaded"
        assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (0, 0, 0)
        assert "the file is empty: no data rows" in outcome.message
    assert count(warehouse, "order_lines") == 0
    assert count(warehouse, "order_events") == 0


def test_truncated_last_line_is_quarantined_with_its_line_number(warehouse, inbox_with):
    summary = ingest_table("order_lines", warehouse, inbox_with("truncated_last_line"))

    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (3, 2, 1)
    ((line, column, reason),) = quarantined(warehouse, "order_lines")
    assert (line, column) == (4, None)
    assert reason.startswith("the line has fewer fields (3) than the header (6)")
    record = warehouse.execute("select raw_record from raw.quarantine").fetchall()[0][0]
    assert record == '{"order_id": "O1002", "line_number": "1", "sku": "JK02-X"}'
    assert warehouse.execute(
        "select list(_source_line order by _source_line) from raw.order_lines"
    ).fetchall()[0][0] == [2, 3]


def test_xlsx_with_a_title_row_above_the_header(warehouse, inbox_with):
    summary = ingest_table("tickets", warehouse, inbox_with("xlsx_title_row"))

    # Title on row 1, blank row 2, header on row 3; the blank row 6 is not a row.
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (3, 2, 1)
    rows = warehouse.execute(
        "select ticket_id, _source_line, rating, opened_at::varchar, resolved_at::varchar "
        "from raw.tickets order by ticket_id"
    ).fetchall()
    assert rows == [
        ("K1", 4, None, "2026-11-01 02:00:00", "2026-11-01 07:30:00"),
        ("K2", 5, 2, "2026-11-01 03:00:00", None),
    ]
    assert quarantined(warehouse, "tickets") == [
        (
            7,
            "category",
            "category 'teleport' is not one of: wrong_item, missing_item, damaged, "
            "late, address, inquiry, other",
        ),
    ]


def test_a_file_named_with_an_impossible_day_is_rejected_once_saying_so(warehouse, inbox_with):
    from datetime import date

    inbox = inbox_with("clean")
    source = inbox / "orders" / "order_lines_2026-11-01.csv"
    (inbox / "orders" / "order_lines_2099-01-01.csv").write_bytes(source.read_bytes())

    # a run for another day still rejects it: no partition will ever hold that day
    first = ingest_table("order_lines", warehouse, inbox, partition_days=[date(2026, 11, 1)])
    again = ingest_table("order_lines", warehouse, inbox, partition_days=[date(2026, 11, 1)])

    assert first.rejected == {
        "orders/order_lines_2099-01-01.csv": "the date in its name, 2099-01-01, cannot be a "
        "delivery day (2000-01-01 to a year from today): rename the file with the day it was "
        "exported. Nothing from this version was loaded."
    }
    assert again.rejected == {}  # said once, not at every run
    assert first.rows_loaded == 3  # the file of the day itself is loaded
    rejected = [
        entry for entry in ledger(warehouse, "order_lines") if entry["status"] == "rejected"
    ]
    assert len(rejected) == 1


def test_a_symbolic_link_in_the_inbox_is_refused_not_followed(
    warehouse, inbox_with, tmp_path, monkeypatch
):
    inbox = inbox_with("clean")
    outside = tmp_path / "elsewhere"
    (outside / "more").mkdir(parents=True)
    secret = outside / "order_lines_2026-11-02.csv"
    secret.write_bytes((inbox / "orders" / "order_lines_2026-11-01.csv").read_bytes())
    (outside / "more" / "order_lines_2026-11-03.csv").write_bytes(secret.read_bytes())
    (inbox / "orders" / "order_lines_2026-11-02.csv").symlink_to(secret)
    (inbox / "orders" / "more").symlink_to(outside / "more", target_is_directory=True)
    (inbox / "orders" / "order_lines_2026-11-04.csv").symlink_to(outside / "gone.csv")  # broken

    first = ingest_table("order_lines", warehouse, inbox)
    again = ingest_table("order_lines", warehouse, inbox)

    assert first.rows_loaded == 3  # the real file of 2026-11-01 only
    assert count(warehouse, "order_lines") == 3
    reasons = first.rejected
    assert set(reasons) == {
        "orders/order_lines_2026-11-02.csv",
        "orders/order_lines_2026-11-04.csv",
    }
    assert all("symbolic link" in reason for reason in reasons.values())
    assert "OEX_FOLLOW_LINKS" in reasons["orders/order_lines_2026-11-02.csv"]
    assert "which does not exist" in reasons["orders/order_lines_2026-11-04.csv"]
    assert str(secret) in reasons["orders/order_lines_2026-11-02.csv"]
    assert again.rejected == {}  # said once
    # the linked folder is not walked into; it is refused by the orders table, not lost
    orders = ingest_table("orders", warehouse, inbox)
    assert "orders/more" in orders.rejected and "orders/more" in orders.unclaimed_files

    monkeypatch.setenv("OEX_FOLLOW_LINKS", "true")
    allowed = ingest_table("order_lines", warehouse, inbox)
    assert "orders/order_lines_2026-11-02.csv" not in allowed.rejected
    assert "orders/more/order_lines_2026-11-03.csv" in {f.source_file for f in allowed.files}


def test_a_file_name_that_is_not_utf8_is_refused_by_name_and_the_others_load(warehouse, inbox_with):
    import os

    inbox = inbox_with("clean")
    source = inbox / "orders" / "order_lines_2026-11-01.csv"
    gbk_name = "order_lines_补发_2026-11-02.csv".encode("gbk")  # from a Windows share
    with open(os.path.join(os.fsencode(inbox / "orders"), gbk_name), "wb") as copy:
        copy.write(source.read_bytes())

    summary = ingest_table("order_lines", warehouse, inbox)

    assert summary.rows_loaded == 3  # the file with a proper name
    ((name, reason),) = summary.rejected.items()
    assert name == "orders/order_lines_补发_2026-11-02.csv"  # shown as a person can read it
    assert reason.startswith("its name is not UTF-8 (byte 0xb2 at 12;")
    assert [entry["source_file"] for entry in ledger(warehouse, "order_lines")].count(name) == 1


def test_files_older_than_the_first_partition_are_refused_once_and_the_day_still_loads(
    warehouse, inbox_with, monkeypatch
):
    import os
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    monkeypatch.setenv("OEX_FIRST_DAY", "2026-11-01")
    inbox = inbox_with("clean")
    source = inbox / "orders" / "order_lines_2026-11-01.csv"
    (inbox / "orders" / "order_lines_2026-10-01.csv").write_bytes(source.read_bytes())
    undated = inbox / "orders" / "order_lines_from_the_old_share.csv"
    undated.write_bytes(source.read_bytes())
    written = datetime(2026, 9, 1, 12, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    os.utime(undated, (written, written))

    first = ingest_table("order_lines", warehouse, inbox, partition_days=[date(2026, 11, 1)])
    again = ingest_table("order_lines", warehouse, inbox, partition_days=[date(2026, 11, 1)])

    assert first.rows_loaded == 3  # the day itself is loaded
    assert first.rejected == {
        "orders/order_lines_2026-10-01.csv": "its delivery day (the date in its name), "
        "2026-10-01, is before the first daily partition, 2026-11-01 (OEX_FIRST_DAY): set "
        "OEX_FIRST_DAY earlier and run `oex import-history` to load it. Nothing from this "
        "version was loaded.",
        "orders/order_lines_from_the_old_share.csv": "its delivery day (the day it was "
        "written), 2026-09-01, is before the first daily partition, 2026-11-01 "
        "(OEX_FIRST_DAY): set OEX_FIRST_DAY earlier and run `oex import-history` to load "
        "it. Nothing from this version was loaded.",
    }
    assert again.rejected == {}  # said once, not at every run
