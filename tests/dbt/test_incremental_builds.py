"""Incremental builds: a history built day by day, with a late tracking event and a late ticket
for an old order and re-delivered corrected files (one changing a day's order log, others
withdrawing orders, a parcel and a parcel's scan), equals a full refresh of the same raw data.

Real ingestion of generated files into a DuckDB file in tmp_path, real dbt (`dbt run`, the
models and the on-run-end watermark; the dbt tests are not what is compared here).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines import settings
from pipelines.contract import load_contract
from pipelines.defs.ingestion.landing import ingest_table
from pipelines.generator import generate
from pipelines.inbox import partition_day_of

pytestmark = pytest.mark.slow

DBT = Path(sys.executable).parent / "dbt"
FIRST_DAY = date(2026, 11, 1)
DAYS = 12
# No look-back window: every rebuilt order must be found from what was ingested and from
# what the rules now judge differently (a window would hide a missed order).
LOOK_BACK = "{lookback_days: 0}"
STAGING_MODELS = [
    "stg_orders__orders",
    "stg_orders__order_lines",
    "stg_orders__order_events",
    "stg_stock__skus",
    "stg_stock__stock_snapshots",
    "stg_logistics__shipments",
    "stg_logistics__tracking_events",
    "stg_feedback__tickets",
    "stg_feedback__handling_log",
]
# the rules whose verdicts a daily run judges again only in their scope (the other rules are
# built in full every run)
INCREMENTAL_RULES = ["int_exception__phone_invalid", "int_exception__tracking_stalled"]
INCREMENTAL_MODELS = [
    *STAGING_MODELS,
    "int_orders__context",
    "int_shipments__tracking_summary",
    "int_order_lines__stock",
    "int_exceptions__handling",
    "fct_order_exceptions",
    "fct_orders",
    "fct_order_timeline",
    *INCREMENTAL_RULES,
]
# every mart is compared, the full tables on top of the facts too
COMPARED = {
    "marts": [
        "fct_order_exceptions",
        "fct_orders",
        "fct_order_timeline",
        "rpt_weekly_exception_summary",
        "rpt_weekly_kpis",
        "rpt_recurring_issues",
        "rpt_root_causes",
        "rpt_exception_attribution",
    ],
    "intermediate": [
        *INCREMENTAL_MODELS[len(STAGING_MODELS) : len(STAGING_MODELS) + 4],
        *INCREMENTAL_RULES,
    ],
    "staging": STAGING_MODELS,
}


class Warehouse:
    """A warehouse file, its dbt project copy and its inbox: ingest days, run dbt."""

    def __init__(self, root: Path, inbox: Path) -> None:
        self.root = root
        self.inbox = inbox
        self.path = root / "warehouse.duckdb"
        self.project = root / "dbt_project"
        shutil.copytree(
            settings.DBT_PROJECT_DIR,
            self.project,
            ignore=shutil.ignore_patterns("target", "logs", ".user.yml"),
        )

    def ingest(self, days: list[date]) -> None:
        connection = duckdb.connect(str(self.path))
        try:
            for table in load_contract():
                summary = ingest_table(table, connection, inbox=self.inbox, partition_days=days)
                assert not summary.rejected, summary.rejected
        finally:
            connection.close()

    def dbt(self, command: str = "run", *args: str) -> dict[str, dict]:
        environment = os.environ | {
            "OEX_WAREHOUSE": str(self.path),
            "OEX_DUCKDB_TEMP": str(self.root / "tmp"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        completed = subprocess.run(
            [
                str(DBT),
                command,
                "--project-dir",
                str(self.project),
                "--profiles-dir",
                str(self.project),
                "--vars",
                LOOK_BACK,
                *args,
            ],
            cwd=self.project,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-3000:]
        self.output = completed.stdout
        results = json.loads((self.project / "target" / "run_results.json").read_text())
        return {result["unique_id"].split(".")[-1]: result for result in results["results"]}

    def orders_rebuilt(self) -> int:
        """What the last run's on-run-end logged for int_orders__rebuild_scope."""
        (count,) = re.findall(r"int_orders__rebuild_scope: (\d+) orders rebuilt", self.output)
        return int(count)

    def table(self, schema: str, name: str) -> pd.DataFrame:
        connection = duckdb.connect(str(self.path), read_only=True)
        try:
            frame = connection.execute(f"select * from {schema}.{name}").df()
        finally:
            connection.close()
        columns = sorted(frame.columns)
        return frame[columns].sort_values(columns, na_position="first").reset_index(drop=True)

    def count(self, sql: str) -> int:
        connection = duckdb.connect(str(self.path), read_only=True)
        try:
            return connection.execute(sql).fetchone()[0]
        finally:
            connection.close()


def _day_files(inbox: Path, day: date) -> list[Path]:
    return [path for path in sorted(inbox.rglob("*.parquet")) if partition_day_of(path) == day]


def _rewrite(path: Path, rows: list[dict]) -> None:
    schema = pq.read_schema(path)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def _rows(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def _file(inbox: Path, domain: str, table: str, day: date) -> Path:
    (path,) = (inbox / domain).glob(f"{table}_{day.isoformat()}.parquet")
    return path


def add_late_tracking_event(inbox: Path, old_day: date, on_day: date) -> str:
    """A carrier reports a parcel of an old day lost, days later: returns its order id."""
    shipments = _rows(_file(inbox, "logistics", "shipments", old_day))
    tracking_path = _file(inbox, "logistics", "tracking_events", on_day)
    events = _rows(tracking_path)
    shipment = shipments[0]
    late = dict(events[0])
    late.update(
        event_id="LATE-TRACKING-1",
        tracking_number=shipment["tracking_number"],
        event_type="lost",
        event_at=datetime.combine(on_day, datetime.min.time()) + timedelta(hours=10),
    )
    _rewrite(tracking_path, [*events, late])
    return shipment["order_id"]


def add_late_ticket(inbox: Path, old_day: date, on_day: date) -> str:
    """A customer complains about a wrong item for an order of an old day."""
    orders = _rows(_file(inbox, "orders", "orders", old_day))
    tickets_path = _file(inbox, "feedback", "tickets", on_day)
    tickets = _rows(tickets_path)
    late = dict(tickets[0])
    order_id = orders[-1]["order_id"]
    late.update(ticket_id="LATE-TICKET-1", order_id=order_id, category="wrong_item")
    _rewrite(tickets_path, [*tickets, late])
    return order_id


def add_unpaid_order_at_day_end(inbox: Path, day: date) -> str:
    """An order placed one minute before the day ends and never paid: its payment timeout
    falls after this day's build, so only a later run (as_of moved on) can flag it."""
    path = _file(inbox, "orders", "orders", day)
    orders = _rows(path)
    late = dict(orders[0])
    placed_at = datetime.combine(day, datetime.min.time()) + timedelta(hours=23, minutes=59)
    late.update(
        order_id="UNPAID-AT-DAY-END",
        platform_order_no="UNPAID-AT-DAY-END",
        placed_at=placed_at,
        paid_at=None,
    )
    _rewrite(path, [*orders, late])
    return "UNPAID-AT-DAY-END"


def add_parcel_going_quiet_at_day_end(inbox: Path, day: date) -> str:
    """An order paid late in the day whose parcel is handed to the carrier at 23:00 and never
    scanned again: no file names it after this day, and it stalls only once as_of has moved
    tracking_stall_hours on, so only a later run can flag it."""
    evening = datetime.combine(day, datetime.min.time()) + timedelta(hours=20)
    orders_path = _file(inbox, "orders", "orders", day)
    orders = _rows(orders_path)
    order = dict(orders[0])
    order.update(
        order_id="QUIET-PARCEL",
        platform_order_no="QUIET-PARCEL",
        placed_at=evening,
        paid_at=evening + timedelta(minutes=5),
    )
    _rewrite(orders_path, [*orders, order])
    shipments_path = _file(inbox, "logistics", "shipments", day)
    shipments = _rows(shipments_path)
    shipment = dict(shipments[0])
    shipment.update(
        shipment_id="QUIET-PARCEL-SHIPMENT",
        order_id="QUIET-PARCEL",
        tracking_number="QUIET-PARCEL-TRACKING",
        created_at=evening + timedelta(hours=1),
    )
    _rewrite(shipments_path, [*shipments, shipment])
    events_path = _file(inbox, "logistics", "tracking_events", day)
    events = _rows(events_path)
    scan = dict(events[0])
    scan.update(
        event_id="QUIET-PARCEL-SCAN",
        tracking_number="QUIET-PARCEL-TRACKING",
        event_type="handed_to_carrier",
        event_at=evening + timedelta(hours=3),
    )
    _rewrite(events_path, [*events, scan])
    return "QUIET-PARCEL"


def add_earlier_copy_of_order(inbox: Path, old_day: date, on_day: date) -> str:
    """The platform pushes, late, a copy of an old order placed an hour before it: the old
    order, not the new one, becomes the duplicate. Returns the old order's id."""
    original = _rows(_file(inbox, "orders", "orders", old_day))[1]
    path = _file(inbox, "orders", "orders", on_day)
    orders = _rows(path)
    copy = dict(original)
    copy.update(order_id="EARLIER-COPY-1", placed_at=original["placed_at"] - timedelta(hours=1))
    _rewrite(path, [*orders, copy])
    return original["order_id"]


def correct_order_events(inbox: Path, day: date) -> None:
    """A corrected re-export of a day's order log: one order's WMS receipt removed (it never
    reached the warehouse system) and one event dropped altogether."""
    path = _file(inbox, "orders", "order_events", day)
    events = _rows(path)
    received = [event for event in events if event["event_type"] == "wms_received"]
    corrected = [event for event in events if event is not received[0]]
    _rewrite(path, corrected[:-1])


def withdraw_orders(inbox: Path, day: date, order_ids: set[str]) -> None:
    """A corrected re-export of a day's orders that withdraws some of them (test orders, or
    orders the platform voided): gone from the day's headers, lines and status log."""
    for table in ("orders", "order_lines", "order_events"):
        path = _file(inbox, "orders", table, day)
        _rewrite(path, [row for row in _rows(path) if row["order_id"] not in order_ids])


def _placed_before(inbox: Path, day: date) -> set[str]:
    """Orders of the files of the days before `day`."""
    return {
        row["order_id"]
        for path in sorted((inbox / "orders").glob("orders_*.parquet"))
        if partition_day_of(path) < day
        for row in _rows(path)
    }


def withdraw_parcel(inbox: Path, day: date) -> str:
    """A corrected re-export of a day's parcels without one waybill (printed by mistake) of an
    order placed on an earlier day: returns the shipment's id."""
    path = _file(inbox, "logistics", "shipments", day)
    shipments = _rows(path)
    earlier = _placed_before(inbox, day)
    withdrawn = next(shipment for shipment in shipments if shipment["order_id"] in earlier)
    _rewrite(path, [shipment for shipment in shipments if shipment is not withdrawn])
    return withdrawn["shipment_id"]


def withdraw_delivery_scans(inbox: Path, day: date) -> str:
    """A corrected re-export of a day's tracking scans without the scans of one parcel, its
    "delivered" scan among them (they were another parcel's), of an order placed on an
    earlier day: returns the parcel's tracking number."""
    earlier = _placed_before(inbox, day)
    order_of = {
        shipment["tracking_number"]: shipment["order_id"]
        for path in sorted((inbox / "logistics").glob("shipments_*.parquet"))
        for shipment in _rows(path)
        if shipment["order_id"] in earlier
    }
    path = _file(inbox, "logistics", "tracking_events", day)
    events = _rows(path)
    parcel = next(
        event["tracking_number"]
        for event in events
        if event["event_type"] == "delivered" and event["tracking_number"] in order_of
    )
    _rewrite(path, [event for event in events if event["tracking_number"] != parcel])
    return parcel


# (schema, model, column set to -1) for the marked order
TAMPERED = [
    ("staging", "stg_orders__orders", "receiver_name"),
    ("staging", "stg_orders__order_lines", "sku"),
    ("intermediate", "int_orders__context", "order_status"),
    ("intermediate", "int_shipments__tracking_summary", "tracking_events"),
    ("intermediate", "int_order_lines__stock", "quantity"),
    ("intermediate", "int_exceptions__handling", "root_cause"),
    ("marts", "fct_order_exceptions", "root_cause"),
    ("marts", "fct_orders", "order_status"),
    ("marts", "fct_order_timeline", "detail"),
]


def mark_settled_order(warehouse: Path, day: date) -> str:
    """An order placed on `day` with a shipment and only closed exceptions: set -1 in one
    column of each of its rows of every incremental model."""
    connection = duckdb.connect(str(warehouse))
    try:
        (order_id,) = connection.execute(
            """
            select exceptions.order_id
            from marts.fct_order_exceptions as exceptions
            inner join intermediate.int_shipments__tracking_summary as shipments
                on exceptions.order_id = shipments.order_id
            where cast(exceptions.placed_at + interval 8 hour as date) = ?
            group by exceptions.order_id
            having not bool_or(exceptions.is_open)
            order by exceptions.order_id
            limit 1
            """,
            [day],
        ).fetchone()
        for schema, name, column in TAMPERED:
            # identifiers from the list above; the value is a parameter
            connection.execute(
                f"update {schema}.{name} set {column} = '-1' where order_id = ?", [order_id]
            )
    finally:
        connection.close()
    return order_id


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("incremental")
    generated = root / "generated"
    generate(
        orders=1200,
        days=DAYS,
        merchants=3,
        seed=7,
        end_date=FIRST_DAY + timedelta(days=DAYS - 1),
        file_format="parquet",
        bad_rows=0.0,
        inbox=generated / "inbox",
        truth_dir=generated / "truth",
    )
    inbox = root / "inbox"
    days = [FIRST_DAY + timedelta(days=offset) for offset in range(DAYS)]

    def deliver(day: date) -> None:
        for path in _day_files(generated / "inbox", day):
            target = inbox / path.relative_to(generated / "inbox")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)

    (root / "incremental").mkdir()
    daily = Warehouse(root / "incremental", inbox)
    history = days[:8]
    for day in history:
        deliver(day)
    unpaid_order = add_unpaid_order_at_day_end(inbox, history[-1])
    quiet_parcel_order = add_parcel_going_quiet_at_day_end(inbox, history[-1])
    daily.ingest(history)
    daily.dbt("seed")
    daily.dbt()  # the first build creates every table in full

    # a copy whose rows of one settled order of the first day are marked before the next step
    (root / "probe").mkdir()
    probe = Warehouse(root / "probe", inbox)
    shutil.copy(daily.path, probe.path)
    settled_order = mark_settled_order(probe.path, days[0])

    # day 9, with a late tracking event and a late ticket for orders of the first day
    deliver(days[8])
    late_orders = {
        add_late_tracking_event(inbox, days[0], days[8]),
        add_late_ticket(inbox, days[1], days[8]),
    }
    duplicated_order = add_earlier_copy_of_order(inbox, days[1], days[8])
    daily.ingest([days[8]])
    daily.dbt()
    probe.ingest([days[8]])
    probe.dbt()
    probe_scope_size = probe.orders_rebuilt()

    # day 10, and a corrected re-export of day 3's order log
    deliver(days[9])
    correct_order_events(inbox, days[2])
    daily.ingest([days[2], days[9]])
    daily.dbt()

    for day in days[10:]:
        deliver(day)
        daily.ingest([day])
        daily.dbt()

    # corrected re-exports of earlier days, after the last day (whose SKU master rebuilds
    # nearly every order), each alone and built by a daily run: day 4's orders without two of
    # them (one with exceptions, one without), then rows withdrawn from orders placed before
    # the file's day that no remaining row of the file names: a parcel of day 5, then a
    # parcel's scans of day 7
    flagged = set(daily.table("marts", "fct_order_exceptions")["order_id"])
    of_day_4 = [row["order_id"] for row in _rows(_file(inbox, "orders", "orders", days[3]))]
    withdrawn_orders = {
        next(order_id for order_id in of_day_4 if order_id in flagged),
        next(order_id for order_id in of_day_4 if order_id not in flagged),
    }
    withdraw_orders(inbox, days[3], withdrawn_orders)
    daily.ingest([days[3]])
    daily.dbt()
    withdrawn_shipment = withdraw_parcel(inbox, days[4])
    daily.ingest([days[4]])
    daily.dbt()
    unscanned_parcel = withdraw_delivery_scans(inbox, days[6])
    daily.ingest([days[6]])
    daily.dbt()

    (root / "refreshed").mkdir()
    refreshed = Warehouse(root / "refreshed", inbox)
    shutil.copy(daily.path, refreshed.path)
    refresh_results = refreshed.dbt("run", "--full-refresh")
    return {
        "daily": daily,
        "refreshed": refreshed,
        "probe": probe,
        "probe_scope_size": probe_scope_size,
        "settled_order": settled_order,
        "refresh_results": refresh_results,
        "late_orders": late_orders,
        "unpaid_order": unpaid_order,
        "quiet_parcel_order": quiet_parcel_order,
        "duplicated_order": duplicated_order,
        "withdrawn_orders": withdrawn_orders,
        "withdrawn_shipment": withdrawn_shipment,
        "unscanned_parcel": unscanned_parcel,
    }


@pytest.mark.parametrize(
    ("schema", "name"), [(schema, name) for schema, names in COMPARED.items() for name in names]
)
def test_daily_builds_equal_a_full_refresh(builds: dict, schema: str, name: str) -> None:
    daily = builds["daily"].table(schema, name)
    refreshed = builds["refreshed"].table(schema, name)
    assert len(daily) > 0
    pd.testing.assert_frame_equal(daily, refreshed, check_exact=False, rtol=1e-9)


def test_the_daily_step_left_other_orders_untouched(builds: dict) -> None:
    """Rows of an old, settled order were marked before the daily step and are still marked
    after it: the step did not rewrite them (a table materialisation rewrites every row)."""
    probe = builds["probe"]
    for schema, name, column in TAMPERED:
        marked = probe.count(
            f"select count(*) from {schema}.{name} "
            f"where order_id = '{builds['settled_order']}' and cast({column} as varchar) = '-1'"
        )
        assert marked > 0, name
    orders = probe.count("select count(*) from staging.stg_orders__orders")
    assert 0 < builds["probe_scope_size"] < orders * 0.6


def test_late_events_for_old_orders_were_rebuilt(builds: dict) -> None:
    exceptions = builds["daily"].table("marts", "fct_order_exceptions")
    flagged = exceptions[exceptions["order_id"].isin(builds["late_orders"])]
    assert {"lost_or_damaged", "wrong_item"} <= set(flagged["exception_type"])


def test_rules_judged_anew_reach_orders_no_file_touched(builds: dict) -> None:
    """A payment timeout that fell due after the day's build, a parcel that went quiet (no
    scan since its day, judged by the incremental tracking_stalled rule), and an old order
    that a late copy made the duplicate: none had new rows, all are flagged."""
    exceptions = builds["daily"].table("marts", "fct_order_exceptions")
    flagged = set(zip(exceptions["order_id"], exceptions["exception_type"], strict=True))
    assert (builds["unpaid_order"], "payment_timeout") in flagged
    assert (builds["quiet_parcel_order"], "tracking_stalled") in flagged
    assert (builds["duplicated_order"], "duplicate_order") in flagged


def test_orders_a_corrected_file_withdrew_are_gone(builds: dict) -> None:
    """A re-delivered file that no longer holds two orders: the daily build deletes their rows
    from the facts (one of them had exceptions), as a full refresh would."""
    daily = builds["daily"]
    withdrawn = builds["withdrawn_orders"]
    assert len(withdrawn) == 2
    for schema, name in [
        ("intermediate", "int_orders__context"),
        ("marts", "fct_orders"),
        ("marts", "fct_order_exceptions"),
    ]:
        table = daily.table(schema, name)
        assert not table["order_id"].isin(withdrawn).any(), name


def test_orders_that_lost_a_parcel_or_a_scan_were_rebuilt(builds: dict) -> None:
    """Orders still there whose parcel, or whose parcel's delivered scan, a corrected file
    withdrew: the parcel is gone from its order, and the other is no longer delivered."""
    parcels = builds["daily"].table("intermediate", "int_shipments__tracking_summary")
    assert builds["withdrawn_shipment"] not in set(parcels["shipment_id"])
    (delivered_at,) = parcels.loc[
        parcels["tracking_number"] == builds["unscanned_parcel"], "first_delivered_at"
    ]
    assert pd.isna(delivered_at)


def test_a_full_refresh_rebuilds_every_order(builds: dict) -> None:
    """The full refresh ran every incremental model as a full build (no scope filter)."""
    for name in INCREMENTAL_MODELS:
        result = builds["refresh_results"][name]
        assert result["status"] == "success"
        body = result["compiled_code"].split("with", 1)[1]
        assert "rebuild_scope" not in body and "touched_keys" not in body, name
