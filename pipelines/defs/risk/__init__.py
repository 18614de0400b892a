"""Risk: the late-delivery model, the two risk marts and their track record (pipelines/risk
holds the methods)."""

import dagster as dg

from pipelines.defs.risk.assets import (
    delivery_risk_model,
    risk_track_record,
    rpt_delivery_risk,
    rpt_stockout_risk,
)

defs = dg.Definitions(
    assets=[delivery_risk_model, rpt_delivery_risk, rpt_stockout_risk, risk_track_record]
)
