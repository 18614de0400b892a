"""Jobs and schedules: what runs when, resolved against a code location shaped like ours."""

from __future__ import annotations

import os
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from pipelines.defs import automation, exports
from pipelines.defs.automation.schedules import (
    daily_build_schedule,
    weekly_merchant_reports_schedule,
    weekly_risk_model_schedule,
)
from pipelines.defs.partitions import DAILY_PARTITIONS, WAREHOUSE_POOL

SHANGHAI = ZoneInfo("Asia/Shanghai")


# Stand-ins with the shapes the other areas use: a daily ingestion asset keyed
# [domain, table] and the marts export. They only give the jobs something to select.
@dg.asset(key=["orders", "orders"], partitions_def=DAILY_PARTITIONS, pool=WAREHOUSE_POOL)
def orders_table() -> None:
    """Stand-in for an ingestion asset."""


@dg.asset(key="exported_marts", deps=[orders_table], partitions_def=DAILY_PARTITIONS)
def exported_marts() -> None:
    """Stand-in for the marts export."""


@dg.asset(key="delivery_risk", pool=WAREHOUSE_POOL)
def delivery_risk_model() -> None:
    """Stand-in for the late-delivery model, retrained weekly."""


@dg.asset(key="risk_track_record", pool=WAREHOUSE_POOL)
def risk_track_record() -> None:
    """Stand-in for the weekly replay of both risks."""


@pytest.fixture(scope="module")
def location() -> dg.Definitions:
    stand_ins = dg.Definitions(
        assets=[orders_table, exported_marts, delivery_risk_model, risk_track_record]
    )
    return dg.Definitions.merge(stand_ins, exports.defs, automation.defs)


def test_daily_build_runs_everything_but_the_weekly_assets(location) -> None:
    job = location.resolve_job_def("daily_build")
    selected = job.asset_layer.selected_asset_keys
    assert selected == {dg.AssetKey(["orders", "orders"]), dg.AssetKey("exported_marts")}
    assert job.partitions_def == DAILY_PARTITIONS


def test_weekly_job_runs_only_the_merchant_reports(location) -> None:
    job = location.resolve_job_def("weekly_merchant_reports")
    assert job.asset_layer.selected_asset_keys == {dg.AssetKey("merchant_reports")}


def test_the_weekly_model_job_retrains_the_model_and_replays_the_risks_on_monday_morning(
    location,
) -> None:
    job = location.resolve_job_def("weekly_risk_model")
    assert job.asset_layer.selected_asset_keys == {
        dg.AssetKey("delivery_risk"),
        dg.AssetKey("risk_track_record"),
    }
    assert (
        weekly_risk_model_schedule.cron_schedule,
        weekly_risk_model_schedule.execution_timezone,
        weekly_risk_model_schedule.job_name,
    ) == ("0 7 * * 1", "Asia/Shanghai", "weekly_risk_model")


def test_schedules_run_in_shanghai_time_on_the_right_jobs() -> None:
    assert (
        daily_build_schedule.cron_schedule,
        daily_build_schedule.execution_timezone,
        daily_build_schedule.job_name,
    ) == ("0 6 * * *", "Asia/Shanghai", "daily_build")
    assert (
        weekly_merchant_reports_schedule.cron_schedule,
        weekly_merchant_reports_schedule.execution_timezone,
        weekly_merchant_reports_schedule.job_name,
    ) == ("0 8 * * 1", "Asia/Shanghai", "weekly_merchant_reports")


@pytest.mark.parametrize(
    ("schedule", "tick", "partition"),
    [
        # 06:00 on the 16th builds the 15th, the last complete day.
        (daily_build_schedule, datetime(2026, 11, 16, 6, 0, tzinfo=SHANGHAI), "2026-11-15"),
        # Monday 16 Nov 08:00 reports the week of Monday 9 Nov (2026-W46), just ended.
        (
            weekly_merchant_reports_schedule,
            datetime(2026, 11, 16, 8, 0, tzinfo=SHANGHAI),
            "2026-11-09",
        ),
    ],
)
def test_schedules_target_the_period_just_ended(location, schedule, tick, partition) -> None:
    with dg.instance_for_test() as instance:
        # With the repository, the tick also validates the partition key against the job.
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=tick,
            repository_def=location.get_repository_def(),
        )
        data = schedule.evaluate_tick(context)
    [request] = data.run_requests
    assert request.partition_key == partition


def test_the_location_validates_with_the_schedules_and_sensor_listed(location) -> None:
    dg.Definitions.validate_loadable(location)
    repository = location.get_repository_def()
    assert {s.name for s in repository.schedule_defs} == {
        "daily_build_schedule",
        "weekly_merchant_reports_schedule",
        "weekly_risk_model_schedule",
    }
    assert sorted(s.name for s in repository.sensor_defs) == [
        "check_results_after_failure",
        "check_results_after_success",
        "inbox_sensor",
    ]
    assert repository.get_sensor_def("inbox_sensor").minimum_interval_seconds <= 30


def test_the_sensor_requests_a_valid_daily_build_range(location, tmp_path, monkeypatch) -> None:
    inbox = tmp_path / "inbox"
    for name in ("orders/orders_2026-11-01.csv", "orders/orders_2026-11-03.csv"):
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_text("order_id\n1\n")
        os.utime(inbox / name, (time.time() - 60, time.time() - 60))
    monkeypatch.setenv("OEX_INBOX", str(inbox))

    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, definitions=location)
        data = location.get_repository_def().get_sensor_def("inbox_sensor").evaluate_tick(context)

    [request] = data.run_requests
    assert (
        request.tags["dagster/asset_partition_range_start"],
        request.tags["dagster/asset_partition_range_end"],
    ) == ("2026-11-01", "2026-11-03")
