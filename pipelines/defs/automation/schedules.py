"""When the jobs run by themselves, in the reporting time zone (OEX_TIMEZONE).

The target partition is computed from the tick's own time rather than "the latest
partition", so the schedules stay right even if the daily partitions start to include the
day in progress (which the inbox sensor would like, to load today's files).
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.defs.automation.jobs import daily_build, weekly_merchant_reports, weekly_risk_model
from pipelines.settings import reporting_timezone

REPORTING_TIMEZONE = reporting_timezone()


def _tick_day(context: dg.ScheduleEvaluationContext) -> date:
    tick = context.scheduled_execution_time or datetime.now(ZoneInfo(REPORTING_TIMEZONE))
    return tick.astimezone(ZoneInfo(REPORTING_TIMEZONE)).date()


@dg.schedule(
    name="daily_build_schedule",
    job=daily_build,
    cron_schedule="0 6 * * *",
    execution_timezone=REPORTING_TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def daily_build_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Every day at 06:00 (reporting time zone): the daily build of the previous day."""
    day = (_tick_day(context) - timedelta(days=1)).isoformat()
    return dg.RunRequest(run_key=f"daily_build:{day}", partition_key=day)


@dg.schedule(
    name="weekly_merchant_reports_schedule",
    job=weekly_merchant_reports,
    cron_schedule="0 8 * * 1",
    execution_timezone=REPORTING_TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def weekly_merchant_reports_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Mondays at 08:00 (reporting time zone): the merchant reports of the week just ended."""
    today = _tick_day(context)
    # Weekly partitions are keyed by their Monday; the week just ended began 7 days before
    # this week's Monday.
    monday = today - timedelta(days=today.weekday() + 7)
    return dg.RunRequest(
        run_key=f"weekly_merchant_reports:{monday}", partition_key=monday.isoformat()
    )


@dg.schedule(
    name="weekly_risk_model_schedule",
    job=weekly_risk_model,
    cron_schedule="0 7 * * 1",
    execution_timezone=REPORTING_TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def weekly_risk_model_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Mondays at 07:00 (reporting time zone), after the daily build: retrain the model."""
    return dg.RunRequest(run_key=f"weekly_risk_model:{_tick_day(context)}")
