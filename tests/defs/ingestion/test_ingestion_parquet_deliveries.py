"""Parquet files of one shape are read by DuckDB together (one delivery), yet every file is
accounted for on its own: its ledger row, its quarantine, its duplicate keys, its rejection."""

from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
from ingestion_helpers import count, ledger

from pipelines.defs.ingestion import ingest_table, landing


def write_events(path, day: int, rows: list[tuple[str, str, str]]) -> None:
    """order_events rows (event_id, order_id, event_type) on 2026-11-<day>, one a minute."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.table(
            {
                "event_id": [row[0] for row in rows],
                "order_id": [row[1] for row in rows],
                "event_type": [row[2] for row in rows],
                "event_at": pa.array(
                    [datetime(2026, 11, day, 9, minute) for minute in range(len(rows))],
                    pa.timestamp("ms"),
                ),
                "detail": [None] * len(rows),
            }
        ),
        path,
    )


def day_files(inbox):
    folder = inbox / "orders"
    write_events(
        folder / "order_events_2026-11-01.parquet",
        1,
        [("E1", "O1", "created"), ("E2", "O1", "paid"), ("E1", "O1", "shipped")],
    )
    write_events(
        folder / "order_events_2026-11-02.parquet",
        2,
        # E1 again, in another file: a new version of the event, not bad input
        [("E1", "O1", "shipped"), ("E3", "O2", "created"), ("E4", "O2", "lost")],
    )
    write_events(folder / "order_events_2026-11-03.parquet", 3, [("E5", "O3", "created")])
    return folder


def test_files_landed_together_are_each_accounted_for(warehouse, tmp_path):
    inbox = tmp_path / "inbox"
    day_files(inbox)

    summary = ingest_table("order_events", warehouse, inbox)

    by_file = {
        entry["source_file"]: (entry["rows_read"], entry["rows_loaded"], entry["rows_quarantined"])
        for entry in ledger(warehouse, "order_events")
    }
    assert by_file == {
        "orders/order_events_2026-11-01.parquet": (3, 2, 1),
        "orders/order_events_2026-11-02.parquet": (3, 2, 1),
        "orders/order_events_2026-11-03.parquet": (1, 1, 0),
    }
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (7, 5, 2)
    quarantine = warehouse.execute(
        "select source_file, line_number, reason from raw.quarantine order by 1, 2"
    ).fetchall()
    assert [row[:2] for row in quarantine] == [
        ("orders/order_events_2026-11-01.parquet", 3),
        ("orders/order_events_2026-11-02.parquet", 3),
    ]
    assert quarantine[0][2] == (
        "duplicate key event_id=E1: the same key is already on line 1 of this file"
    )
    assert quarantine[1][2].startswith("event_type 'lost' is not one of: created, paid")
    landed = warehouse.execute(
        "select _source_file, _source_line, event_id, event_at::varchar from raw.order_events "
        "where event_id = 'E1' order by _source_file"
    ).fetchall()
    # Asia/Shanghai 09:00 is 01:00 UTC
    assert landed == [
        ("orders/order_events_2026-11-01.parquet", 1, "E1", "2026-11-01 01:00:00"),
        ("orders/order_events_2026-11-02.parquet", 1, "E1", "2026-11-02 01:00:00"),
    ]


def test_a_delivery_splits_at_the_statement_size(warehouse, tmp_path, monkeypatch):
    """With room for four rows a statement, files of 3, 3 and 1 rows land as two deliveries
    (the first file alone; the second with the third, 3 + 1 = 4), with the same outcome as one."""
    monkeypatch.setattr(landing, "ROWS_PER_STATEMENT", 4)
    inbox = tmp_path / "inbox"
    day_files(inbox)
    statements = []
    original = landing._land_delivery

    def counting(connection, table, delivery, own_transaction):
        statements.append(len(delivery.files))
        return original(connection, table, delivery, own_transaction)

    monkeypatch.setattr(landing, "_land_delivery", counting)

    summary = ingest_table("order_events", warehouse, inbox)

    assert statements == [1, 2]
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (7, 5, 2)


def test_a_corrupt_file_among_good_ones_is_rejected_alone(warehouse, tmp_path):
    inbox = tmp_path / "inbox"
    folder = day_files(inbox)
    broken = folder / "order_events_2026-11-02.parquet"
    write_events(broken, 2, [(f"B{n}", f"O{n}", "created") for n in range(50)])
    data = bytearray(broken.read_bytes())
    # the footer still reads (the schema matches the other files), the first data page not
    data[8:48] = b"\xff" * 40
    broken.write_bytes(bytes(data))

    summary = ingest_table("order_events", warehouse, inbox)

    statuses = {outcome.source_file: outcome.status for outcome in summary.files}
    assert statuses == {
        "orders/order_events_2026-11-01.parquet": "loaded",
        "orders/order_events_2026-11-02.parquet": "rejected",
        "orders/order_events_2026-11-03.parquet": "loaded",
    }
    reason = summary.rejected["orders/order_events_2026-11-02.parquet"]
    assert reason.startswith("could not be ingested: ")
    assert reason.endswith("Nothing from this version was loaded.")
    assert count(warehouse, "order_events") == 3
    assert [entry["status"] for entry in ledger(warehouse, "order_events")].count("rejected") == 1
