"""`oex run --full-refresh`: the flag reaches dbt through the daily_build job's run config."""

from __future__ import annotations

import dagster as dg
import pytest


def test_dbt_builds_incrementally_unless_a_full_refresh_is_asked(dbt_manifest):
    from pipelines.defs.transformation.assets import DbtBuildConfig, dbt_build_args

    daily = dbt_build_args(DbtBuildConfig())
    refresh = dbt_build_args(DbtBuildConfig(full_refresh=True))

    assert daily[0] == refresh[0] == "build"
    assert "--full-refresh" in refresh and "--full-refresh" not in daily
    # unit tests run in `make test` (tests/dbt), not on every production build
    for arguments in (daily, refresh):
        skipped = arguments.index("--exclude-resource-type") + 1
        assert arguments[skipped] == "unit_test"


@pytest.mark.parametrize("full_refresh", [False, True])
def test_the_daily_build_job_takes_the_runners_config(dbt_manifest, full_refresh):
    from pipelines.definitions import defs
    from pipelines.runner import DAILY_BUILD_JOB, dbt_run_config

    job = defs.resolve_job_def(DAILY_BUILD_JOB)
    validated = dg.validate_run_config(job, dbt_run_config(full_refresh))
    assert validated["ops"]["order_exceptions_dbt"]["config"] == {"full_refresh": full_refresh}


def test_a_misspelt_option_is_refused(dbt_manifest):
    from pipelines.definitions import defs
    from pipelines.runner import DAILY_BUILD_JOB

    job = defs.resolve_job_def(DAILY_BUILD_JOB)
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(
            job, {"ops": {"order_exceptions_dbt": {"config": {"full_refesh": True}}}}
        )
