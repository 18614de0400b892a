"""The two jobs operators run: the daily build and the weekly merchant reports.

Selections are by key, so this area does not import the areas whose assets it runs.
"""

import dagster as dg

from pipelines.defs.partitions import DAILY_PARTITIONS, WEEKLY_PARTITIONS

MERCHANT_REPORTS = dg.AssetKey("merchant_reports")

daily_build = dg.define_asset_job(
    name="daily_build",
    description="Ingest the inbox files of a day (or a range of days), run the checks, build "
    "the dbt models and export the marts.",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(MERCHANT_REPORTS),
    partitions_def=DAILY_PARTITIONS,
)

weekly_merchant_reports = dg.define_asset_job(
    name="weekly_merchant_reports",
    description="Write every merchant's report files for an ISO week.",
    selection=dg.AssetSelection.assets(MERCHANT_REPORTS),
    partitions_def=WEEKLY_PARTITIONS,
)
