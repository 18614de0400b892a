"""Automation: the daily and weekly jobs (reports, risk model), their schedules, the inbox
sensor and the check-results sensors."""

import dagster as dg

from pipelines.defs.automation.jobs import daily_build, weekly_merchant_reports, weekly_risk_model
from pipelines.defs.automation.schedules import (
    daily_build_schedule,
    weekly_merchant_reports_schedule,
    weekly_risk_model_schedule,
)
from pipelines.defs.automation.sensors import (
    check_results_after_failure,
    check_results_after_success,
    inbox_sensor,
)

defs = dg.Definitions(
    jobs=[daily_build, weekly_merchant_reports, weekly_risk_model],
    schedules=[
        daily_build_schedule,
        weekly_merchant_reports_schedule,
        weekly_risk_model_schedule,
    ],
    sensors=[inbox_sensor, check_results_after_success, check_results_after_failure],
)
