"""The partitioning every daily asset shares: one partition per delivery day, in the
reporting time zone (OEX_TIMEZONE).

The first day is OEX_FIRST_DAY when set, else the earliest delivery day in the inbox (a
business adopting the tool starts by loading years of history), else today: the UI then shows
only days that can hold files, not years of "missing" partitions.
"""

from datetime import timedelta

import dagster as dg

from pipelines import settings
from pipelines.inbox import first_inbox_day, today


def first_partition_day():
    return settings.first_day_setting() or first_inbox_day(settings.inbox_dir()) or today()


_FIRST_DAY = first_partition_day()
# end_offset=1: today is a partition too, so a file that lands today is ingested today.
DAILY_PARTITIONS = dg.DailyPartitionsDefinition(
    start_date=_FIRST_DAY.isoformat(), timezone=settings.reporting_timezone(), end_offset=1
)
# Keyed by Monday; the week of the first day is the first week.
WEEKLY_PARTITIONS = dg.WeeklyPartitionsDefinition(
    start_date=(_FIRST_DAY - timedelta(days=_FIRST_DAY.weekday())).isoformat(),
    timezone=settings.reporting_timezone(),
    day_offset=1,
)

# Every asset that writes the DuckDB warehouse takes a slot of this pool (limit 1 in
# dagster.yaml): DuckDB allows a single writing process.
WAREHOUSE_POOL = "warehouse"
# With OEX_ENGINE=spark, the dbt build and the marts export take a slot of this one instead
# (also limit 1): two builds of the same Spark tables at once would overwrite each other.
SPARK_POOL = "spark"
