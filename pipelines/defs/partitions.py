"""The partitioning every daily asset shares: one partition per Asia/Shanghai business day."""

import dagster as dg

from pipelines.settings import LOCAL_TIMEZONE

# end_offset=1: today is a partition too, so a file that lands today is ingested today.
DAILY_PARTITIONS = dg.DailyPartitionsDefinition(
    start_date="2025-01-01", timezone=LOCAL_TIMEZONE, end_offset=1
)
WEEKLY_PARTITIONS = dg.WeeklyPartitionsDefinition(
    start_date="2025-01-06", timezone=LOCAL_TIMEZONE, day_offset=1
)

# Every asset that writes the DuckDB warehouse takes a slot of this pool (limit 1 in
# dagster.yaml): DuckDB allows a single writing process.
WAREHOUSE_POOL = "warehouse"
