"""The jobs operators run: the daily build, the weekly merchant reports and the weekly
retraining of the late-delivery model with the replay of both risks.

Selections are by key, so this area does not import the areas whose assets it runs.
"""

import dagster as dg

from pipelines.defs.partitions import DAILY_PARTITIONS, WEEKLY_PARTITIONS

MERCHANT_REPORTS = dg.AssetKey("merchant_reports")
DELIVERY_RISK_MODEL = dg.AssetKey("delivery_risk")
RISK_TRACK_RECORD = dg.AssetKey("risk_track_record")
# Every step in the run's own process, as `oex run` executes: the steps that write the
# warehouse take turns in its pool of 1 anyway, and Dagster's default executor starts a new
# Python for each step, which loads the definitions again (about 8 s a step; a daily build
# launched by the daemon took 209 s where `oex run` took 33 s on the same day).
RUN_IN_PROCESS = dg.in_process_executor

daily_build = dg.define_asset_job(
    name="daily_build",
    description="Ingest the inbox files of a day (or a range of days), run the checks, build "
    "the dbt models, score the risk of open orders and SKUs, and export the marts.",
    # the model is retrained and the risks replayed weekly, not daily: scoring uses the model
    # serving
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.assets(MERCHANT_REPORTS, DELIVERY_RISK_MODEL, RISK_TRACK_RECORD),
    partitions_def=DAILY_PARTITIONS,
    executor_def=RUN_IN_PROCESS,
)

weekly_merchant_reports = dg.define_asset_job(
    name="weekly_merchant_reports",
    description="Write every merchant's report files for an ISO week.",
    selection=dg.AssetSelection.assets(MERCHANT_REPORTS),
    partitions_def=WEEKLY_PARTITIONS,
    executor_def=RUN_IN_PROCESS,
)

weekly_risk_model = dg.define_asset_job(
    name="weekly_risk_model",
    description="Retrain the late-delivery model on the last four weeks whose verdicts are in "
    "(it serves only if it beats the carrier x route late rate), and replay both risks on the "
    "last weeks whose outcome is in (reports/risk.json, the Risk watch page's track record).",
    selection=dg.AssetSelection.assets(DELIVERY_RISK_MODEL, RISK_TRACK_RECORD),
    executor_def=RUN_IN_PROCESS,
)
