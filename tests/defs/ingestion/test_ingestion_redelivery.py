"""Idempotent re-runs, corrected re-deliveries, keys arriving again, and UTC storage."""

import os
import shutil

from ingestion_helpers import count, ledger, quarantined

from pipelines.defs.ingestion import ingest_table

LINES_FILE = "orders/order_lines_2026-11-01.csv"


def test_ingesting_the_same_file_again_adds_nothing(warehouse, inbox_with):
    inbox = inbox_with("duplicate_keys")
    ingest_table("order_lines", warehouse, inbox)
    again = ingest_table("order_lines", warehouse, inbox)

    assert [f.status for f in again.files] == ["unchanged"]
    assert (again.rows_read, again.rows_loaded, again.rows_quarantined) == (0, 0, 0)
    assert count(warehouse, "order_lines") == 3
    assert len(quarantined(warehouse, "order_lines")) == 2
    assert [entry["status"] for entry in ledger(warehouse, "order_lines")] == [
        "loaded",
        "unchanged",
    ]


def test_a_corrected_file_replaces_its_earlier_rows_and_quarantine(warehouse, inbox_with):
    inbox = inbox_with("wrong_types")
    ingest_table("order_lines", warehouse, inbox)
    assert (count(warehouse, "order_lines"), len(quarantined(warehouse, "order_lines"))) == (1, 3)

    corrected = (inbox / LINES_FILE).read_text("utf-8")
    corrected = corrected.replace(",two,", ",2,").replace("¥299,maybe", "299.00,false")
    (inbox / LINES_FILE).write_text(corrected.replace("1.5,", "1,"), "utf-8")
    summary = ingest_table("order_lines", warehouse, inbox)

    assert [f.status for f in summary.files] == ["replaced"]
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (4, 4, 0)
    assert count(warehouse, "order_lines") == 4
    assert quarantined(warehouse, "order_lines") == []
    hashes = warehouse.execute("select distinct _file_hash from raw.order_lines").fetchall()
    assert hashes == [(summary.files[0].file_hash,)]


def test_a_corrected_file_records_the_orders_of_the_rows_it_replaced(warehouse, inbox_with):
    """The orders of a replaced version's rows, withdrawn ones included, are kept for the next
    incremental build, with the time of the version that replaced them."""
    inbox = inbox_with("clean")
    ingest_table("order_lines", warehouse, inbox)
    ingest_table("order_lines", warehouse, inbox)  # unchanged: nothing replaced
    assert warehouse.execute("select count(*) from raw.replaced_keys").fetchall() == [(0,)]

    lines = (inbox / LINES_FILE).read_text("utf-8").splitlines()
    (inbox / LINES_FILE).write_text("\n".join(lines[:2]) + "\n", "utf-8")  # only O1001's line 1
    summary = ingest_table("order_lines", warehouse, inbox)

    assert [f.status for f in summary.files] == ["replaced"]
    assert warehouse.execute(
        "select distinct order_id from raw.order_lines order by order_id"
    ).fetchall() == [("O1001",)]
    replaced_at = ledger(warehouse, "order_lines")[-1]["ingested_at"]
    assert warehouse.execute(
        "select table_name, source_file, order_id, tracking_number, ingested_at "
        "from raw.replaced_keys order by order_id"
    ).fetchall() == [
        ("order_lines", LINES_FILE, "O1001", None, replaced_at),
        ("order_lines", LINES_FILE, "O1002", None, replaced_at),
    ]


def test_a_key_in_a_later_file_is_kept_as_a_new_version(warehouse, inbox_with):
    inbox = inbox_with("clean")
    later = inbox / "orders" / "order_lines_2026-11-02.csv"
    shutil.copy(inbox / LINES_FILE, later)
    later.write_text(
        later.read_text("utf-8").replace("O1001,1,TS01-M-BLK,2", "O1001,1,TS01-M-BLK,5")
    )

    summary = ingest_table("order_lines", warehouse, inbox)

    assert summary.rows_loaded == 6
    versions = warehouse.execute(
        "select _source_file, quantity from raw.order_lines "
        "where order_id = 'O1001' and line_number = 1 order by _source_file"
    ).fetchall()
    assert versions == [(LINES_FILE, 2), ("orders/order_lines_2026-11-02.csv", 5)]


def test_only_files_of_the_given_days_are_read(warehouse, inbox_with):
    inbox = inbox_with("clean")
    undated = inbox / "orders" / "order_lines_latest.csv"
    shutil.copy(inbox / LINES_FILE, undated)
    # No date in the name: the day is the file's modification time in Asia/Shanghai.
    os.utime(undated, (1_793_548_800, 1_793_548_800))  # 2026-11-02 00:00 +08:00

    from datetime import date

    summary = ingest_table("order_lines", warehouse, inbox, partition_days=[date(2026, 11, 2)])

    assert [f.source_file for f in summary.files] == ["orders/order_lines_latest.csv"]
    assert summary.files[0].partition_date == date(2026, 11, 2)


def test_local_eight_oclock_is_stored_as_midnight_utc(warehouse, inbox_with):
    ingest_table("order_events", warehouse, inbox_with("timestamps"))

    assert warehouse.execute(
        "select event_at::varchar from raw.order_events where event_id = 'E1'"
    ).fetchall() == [("2026-11-01 00:00:00",)]
    assert warehouse.execute(
        "select typeof(event_at) from raw.order_events limit 1"
    ).fetchall() == [("TIMESTAMP",)]
