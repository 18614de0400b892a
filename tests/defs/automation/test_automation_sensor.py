"""The inbox sensor, evaluated against a real temporary inbox."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from pipelines.defs.automation.sensors import inbox_sensor
from pipelines.inbox import partition_day_of

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    monkeypatch.setenv("OEX_INBOX", str(folder))
    monkeypatch.setenv("OEX_MARTS", str(tmp_path / "marts"))
    return folder


def drop(
    inbox: Path, name: str, content: str = "order_id\n1\n", modified: datetime | None = None
) -> Path:
    """A file that finished arriving a minute ago (or at `modified`)."""
    path = inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    stamp = modified.timestamp() if modified else time.time() - 60
    os.utime(path, (stamp, stamp))
    return path


def evaluate(cursor: str | None = None) -> dg.SensorResult:
    with dg.instance_for_test() as instance:
        return inbox_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))


def test_new_files_start_one_run_over_their_days(inbox: Path) -> None:
    drop(inbox, "orders/orders_2026-11-01.csv")
    drop(inbox, "logistics/shipments_20261102.csv")
    # No date in the name: 2026-11-03 20:30 UTC is already the 4th in Shanghai.
    drop(inbox, "feedback/tickets_export.csv", modified=datetime(2026, 11, 3, 20, 30, tzinfo=UTC))

    result = evaluate()

    [request] = result.run_requests
    assert request.tags[RANGE_START] == "2026-11-01"
    assert request.tags[RANGE_END] == "2026-11-04"
    # the sensor starts the one job it targets (a request names no other)
    assert request.job_name is None and inbox_sensor.job_name == "daily_build"
    assert set(json.loads(result.cursor)["files"]) == {
        "orders/orders_2026-11-01.csv",
        "logistics/shipments_20261102.csv",
        "feedback/tickets_export.csv",
    }


def test_seen_files_start_nothing_and_a_new_file_starts_its_day(inbox: Path) -> None:
    drop(inbox, "orders/orders_2026-11-01.csv")
    first = evaluate()
    assert first.run_requests[0].partition_key == "2026-11-01"

    second = evaluate(first.cursor)
    assert second.run_requests == []
    assert second.skip_reason.skip_message == "no new files in the inbox"

    drop(inbox, "stock/stock_snapshots_2026-11-05.csv")
    third = evaluate(second.cursor)
    [request] = third.run_requests
    assert request.partition_key == "2026-11-05"
    assert request.run_key != first.run_requests[0].run_key


def test_a_replaced_file_runs_its_day_again(inbox: Path) -> None:
    drop(inbox, "orders/orders_2026-11-01.csv")
    first = evaluate()

    drop(inbox, "orders/orders_2026-11-01.csv", content="order_id\n1\n2\n")
    again = evaluate(first.cursor)

    [request] = again.run_requests
    assert request.partition_key == "2026-11-01"
    assert request.run_key != first.run_requests[0].run_key


def test_the_same_new_files_give_the_same_run_key(inbox: Path) -> None:
    drop(inbox, "orders/orders_2026-11-01.csv")
    drop(inbox, "orders/order_lines_2026-11-02.csv")

    assert evaluate().run_requests[0].run_key == evaluate().run_requests[0].run_key


def test_files_still_arriving_hidden_or_for_a_future_day_wait(inbox: Path) -> None:
    drop(inbox, "orders/orders_2026-11-01.csv", modified=datetime.now(UTC))
    drop(inbox, "orders/.orders_2026-11-02.csv")
    drop(inbox, "orders/orders_2026-11-03.csv.part")
    drop(inbox, "orders/orders_2099-01-01.csv")

    result = evaluate()

    assert result.run_requests == []
    assert json.loads(result.cursor)["files"] == {}
    # Once the copy has settled, the file is picked up.
    settled = time.time() - 60
    os.utime(inbox / "orders/orders_2026-11-01.csv", (settled, settled))
    assert evaluate(result.cursor).run_requests[0].partition_key == "2026-11-01"


@pytest.mark.parametrize(
    ("name", "day"),
    [
        ("orders_2026-11-01.csv", "2026-11-01"),
        ("WMS出库单_20261102_0930.xlsx", "2026-11-02"),
        ("batch_123456789_2026-11-03.parquet", "2026-11-03"),
    ],
)
def test_partition_day_comes_from_the_file_name(tmp_path: Path, name: str, day: str) -> None:
    path = tmp_path / name
    path.write_text("x")
    assert partition_day_of(path).isoformat() == day


def test_a_new_sensor_knows_from_the_ledger_what_was_ingested(inbox: Path) -> None:
    """`make dev` on a warehouse built by `oex run`: the sensor starts without a cursor, yet
    runs only what the ledger (exported as rpt_ingestion_health) has not ingested."""
    import pandas as pd

    old = drop(inbox, "orders/orders_2026-11-01.csv", modified=datetime(2026, 11, 1, 2, tzinfo=UTC))
    changed = drop(
        inbox, "orders/orders_2026-11-02.csv", modified=datetime(2026, 11, 3, 9, tzinfo=UTC)
    )
    drop(inbox, "orders/orders_2026-11-04.csv")  # never ingested
    marts = inbox.parent / "marts"
    marts.mkdir()
    pd.DataFrame(
        {
            "source_file": ["orders/orders_2026-11-01.csv", "orders/orders_2026-11-02.csv"],
            # the second file was written again after its ingestion: a corrected delivery
            "ingested_at": pd.to_datetime(["2026-11-01 03:00", "2026-11-02 03:00"]),
        }
    ).to_parquet(marts / "rpt_ingestion_health.parquet")
    assert old.exists() and changed.exists()

    result = evaluate()

    [request] = result.run_requests
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2026-11-02", "2026-11-04")
    assert request.tags["oex/new_files"] == "2"
    # every file is in the cursor now: the next tick starts nothing
    assert set(json.loads(result.cursor)["files"]) == {
        "orders/orders_2026-11-01.csv",
        "orders/orders_2026-11-02.csv",
        "orders/orders_2026-11-04.csv",
    }
