"""The ground truth: every sub-type present, a realistic rate, and times a rule writer can match."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import duckdb
import pyarrow.csv as pacsv
from generator_literal_rules import detect

from pipelines.generator.exception_types import BY_CODE, CODES

UTC_OFFSET = dt.timedelta(hours=8)


def _orders(sample) -> dict[str, dict]:
    rows = duckdb.execute(
        "select order_id, placed_at::timestamp, paid_at::timestamp"
        " from read_csv(?, all_varchar = true)",
        [str(sample.inbox / "orders" / "orders_*.csv")],
    ).fetchall()
    return {order_id: {"placed_at": placed, "paid_at": paid} for order_id, placed, paid in rows}


def _truth_of(sample, code: str) -> list[dict]:
    return [row for row in sample.truth.to_pylist() if row["exception_type"] == code]


def test_all_32_rules_table_sub_types_appear_in_the_truth(sample):
    found = Counter(sample.truth.column("exception_type").to_pylist())
    assert set(found) == set(CODES)
    assert len(CODES) == 32
    assert all(found[code] >= 3 for code in CODES), found


def test_three_to_six_percent_of_orders_carry_an_exception(sample):
    orders = sample.manifest["parameters"]["orders"]
    with_exception = len(set(sample.truth.column("order_id").to_pylist()))
    assert 0.03 <= with_exception / orders <= 0.06
    assert sample.manifest["orders_with_exception"] == with_exception


def test_truth_has_one_row_per_order_and_sub_type_with_its_family(sample):
    rows = sample.truth.to_pylist()
    assert len({(row["order_id"], row["exception_type"]) for row in rows}) == len(rows)
    assert all(row["family"] == BY_CODE[row["exception_type"]].family for row in rows)


def test_payment_timeout_is_observable_thirty_minutes_after_placing_in_utc(sample):
    orders = _orders(sample)
    for row in _truth_of(sample, "payment_timeout"):
        placed_utc = orders[row["order_id"]]["placed_at"] - UTC_OFFSET
        assert row["observable_at"] == placed_utc + dt.timedelta(minutes=30)


def test_sync_delay_and_missing_in_wms_count_from_payment(sample):
    orders = _orders(sample)
    for code, wait in (
        ("sync_delay", dt.timedelta(minutes=30)),
        ("missing_in_wms", dt.timedelta(hours=4)),
    ):
        for row in _truth_of(sample, code):
            paid_utc = orders[row["order_id"]]["paid_at"] - UTC_OFFSET
            assert row["observable_at"] == paid_utc + wait, code


def test_late_handoff_is_observable_at_the_ship_by_time(sample):
    ship_by = {}
    for path in (sample.inbox / "logistics").glob("shipments_*.csv"):
        for row in pacsv.read_csv(path).to_pylist():
            ship_by[row["order_id"]] = row["ship_by_at"] - UTC_OFFSET
    rows = _truth_of(sample, "late_handoff")
    assert rows
    assert all(row["observable_at"] == ship_by[row["order_id"]] for row in rows)


def test_nothing_is_observable_after_the_cutoff(sample):
    as_of = dt.datetime.fromisoformat(sample.manifest["as_of_utc"])
    assert as_of == dt.datetime(2026, 11, 15, 16, 0)  # end of 15 Nov in Shanghai
    assert max(sample.truth.column("observable_at").to_pylist()) <= as_of


def test_a_literal_reading_of_the_rules_finds_the_truth_and_nothing_else(sample):
    """Precision and recall of 1.0 per sub-type, detected_at equal to observable_at."""
    as_of = dt.datetime.fromisoformat(sample.manifest["as_of_utc"])
    found = {
        (row["order_id"], row["exception_type"]): row["detected_at"]
        for row in detect(sample.inbox, as_of).to_pylist()
    }
    truth = {
        (row["order_id"], row["exception_type"]): row["observable_at"]
        for row in sample.truth.to_pylist()
    }
    missed = sorted(set(truth) - set(found))
    extra = sorted(set(found) - set(truth))
    assert not missed and not extra, (missed[:5], extra[:5])
    assert {key: found[key] for key in truth} == truth


def test_handling_log_follows_the_owner_team_and_leaves_some_cases_open(sample):
    actions = []
    for path in (sample.inbox / "feedback").glob("handling_log_*.csv"):
        actions += pacsv.read_csv(path).to_pylist()
    assert {action["exception_type"] for action in actions} <= set(CODES)
    assert all(action["team"] == BY_CODE[action["exception_type"]].owner_team for action in actions)
    assert all(bool(action["resolution"]) == (action["action"] == "resolved") for action in actions)
    cases = {(row["order_id"], row["exception_type"]) for row in sample.truth.to_pylist()}
    resolved = {(a["order_id"], a["exception_type"]) for a in actions if a["action"] == "resolved"}
    acknowledged = {
        (a["order_id"], a["exception_type"]) for a in actions if a["action"] == "acknowledged"
    }
    assert resolved <= acknowledged <= cases
    assert 0.6 < len(resolved) / len(cases) < 0.97  # most closed, some still open
    assert {a["action"] for a in actions} == {
        "acknowledged",
        "contacted_customer",
        "notified_merchant",
        "investigated",
        "escalated",
        "resolved",
    }


def test_cancelled_resolutions_match_a_cancelled_order_event(sample):
    cancelled_orders = set()
    for path in (sample.inbox / "orders").glob("order_events_*.csv"):
        for row in pacsv.read_csv(path).to_pylist():
            if row["event_type"] == "cancelled":
                cancelled_orders.add(row["order_id"])
    resolutions = []
    for path in (sample.inbox / "feedback").glob("handling_log_*.csv"):
        resolutions += [
            row for row in pacsv.read_csv(path).to_pylist() if row["resolution"] == "cancelled"
        ]
    assert resolutions
    assert all(row["order_id"] in cancelled_orders for row in resolutions)
