"""The real code location, as `make dev` and CI load it: `dagster definitions validate` passes,
and it holds the jobs, schedules and sensors operators rely on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipelines import settings


def test_dagster_definitions_validate_passes(dbt_manifest, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "pipelines.definitions"],
        cwd=settings.PROJECT_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home), "OEX_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Validation successful" in result.stdout + result.stderr


def test_the_location_lists_the_schedules_sensors_and_jobs(dbt_manifest):
    from pipelines.definitions import defs

    repository = defs.get_repository_def()
    assert {s.name: s.cron_schedule for s in repository.schedule_defs} == {
        "daily_build_schedule": "0 6 * * *",
        "weekly_merchant_reports_schedule": "0 8 * * 1",
        "weekly_risk_model_schedule": "0 7 * * 1",
    }
    assert {s.execution_timezone for s in repository.schedule_defs} == {"Asia/Shanghai"}
    assert {s.name for s in repository.sensor_defs} == {
        "inbox_sensor",
        "check_results_after_success",
        "check_results_after_failure",
    }
    assert {job.name for job in repository.get_all_jobs()} >= {
        "daily_build",
        "weekly_merchant_reports",
        "weekly_risk_model",
    }
