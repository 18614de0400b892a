"""Check results exported for the Data health page, from real runs on a real instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from pipelines.defs.automation.sensors import check_results_after_failure
from pipelines.defs.quality.results import record_run

STOCK_HEALTHY = {"value": True}
ROWS_BALANCED = {"value": True}


@dg.asset(
    key=["stock", "stock_snapshots"],
    check_specs=[
        dg.AssetCheckSpec("rows_accounted", asset=["stock", "stock_snapshots"], blocking=True),
        dg.AssetCheckSpec("quantities_not_negative", asset=["stock", "stock_snapshots"]),
    ],
)
def stock_snapshots():
    yield dg.Output(1)
    yield dg.AssetCheckResult(
        check_name="rows_accounted",
        passed=ROWS_BALANCED["value"],
        severity=dg.AssetCheckSeverity.ERROR,
    )
    yield dg.AssetCheckResult(
        check_name="quantities_not_negative",
        passed=STOCK_HEALTHY["value"],
        severity=dg.AssetCheckSeverity.WARN,
        description="" if STOCK_HEALTHY["value"] else "3 snapshots with negative on-hand stock",
    )


@dg.asset(
    key=["orders", "orders"],
    check_specs=[dg.AssetCheckSpec("rows_accounted", asset=["orders", "orders"])],
)
def orders():
    yield dg.Output(1)
    yield dg.AssetCheckResult(check_name="rows_accounted", passed=True)


@pytest.fixture
def marts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OEX_MARTS", str(tmp_path / "marts"))
    return tmp_path / "marts"


def read_checks(marts: Path) -> pd.DataFrame:
    return pd.read_parquet(marts / "asset_checks.parquet").set_index(["asset_key", "check_name"])


def test_a_run_records_each_check_with_its_outcome(marts: Path) -> None:
    STOCK_HEALTHY["value"] = False
    with dg.instance_for_test() as instance:
        result = dg.materialize([stock_snapshots, orders], instance=instance)
        assert record_run(instance, result.run_id) == 3

    checks = read_checks(marts)
    failed = checks.loc[("stock/stock_snapshots", "quantities_not_negative")]
    assert not failed["passed"]
    assert failed["severity"] == "WARN"
    assert failed["description"] == "3 snapshots with negative on-hand stock"
    assert checks.loc[("orders/orders", "rows_accounted"), "passed"]
    assert checks.loc[("stock/stock_snapshots", "rows_accounted"), "severity"] == "ERROR"


def test_a_later_run_updates_its_checks_and_keeps_the_others(marts: Path) -> None:
    with dg.instance_for_test() as instance:
        STOCK_HEALTHY["value"] = False
        first = dg.materialize([stock_snapshots, orders], instance=instance)
        record_run(instance, first.run_id)
        earlier_orders_check = read_checks(marts).loc[("orders/orders", "rows_accounted")]

        STOCK_HEALTHY["value"] = True
        second = dg.materialize([stock_snapshots], instance=instance)
        record_run(instance, second.run_id)

    checks = read_checks(marts)
    assert len(checks) == 3
    assert checks.loc[("stock/stock_snapshots", "quantities_not_negative"), "passed"]
    assert checks.loc[("stock/stock_snapshots", "quantities_not_negative"), "run_id"] == (
        second.run_id
    )
    # Not evaluated by the second run: its last known result stays.
    kept = checks.loc[("orders/orders", "rows_accounted")]
    assert kept["run_id"] == earlier_orders_check["run_id"] == first.run_id


def test_the_failure_sensor_records_a_failed_run(marts: Path) -> None:
    STOCK_HEALTHY["value"] = False
    ROWS_BALANCED["value"] = False  # a blocking check fails: the run fails
    try:
        with dg.instance_for_test() as instance:
            result = dg.materialize([stock_snapshots], instance=instance, raise_on_error=False)
            run = instance.get_run_by_id(result.run_id)
            [failed] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
            context = dg.build_run_status_sensor_context(
                sensor_name="check_results_after_failure",
                dagster_instance=instance,
                dagster_run=run,
                dagster_event=failed.dagster_event,
            )
            skip = check_results_after_failure(context)
    finally:
        ROWS_BALANCED["value"] = True

    assert not result.success
    assert "recorded 2 check result(s)" in skip.skip_message
    checks = read_checks(marts)
    # the blocking check that failed the run is what the Data health page must show
    assert not checks.loc[("stock/stock_snapshots", "rows_accounted"), "passed"]
    assert not checks.loc[("stock/stock_snapshots", "quantities_not_negative"), "passed"]
