"""Risk: the late-delivery model and the two risk marts (pipelines/risk holds the methods)."""

import dagster as dg

from pipelines.defs.risk.assets import delivery_risk_model, rpt_delivery_risk, rpt_stockout_risk

defs = dg.Definitions(assets=[delivery_risk_model, rpt_delivery_risk, rpt_stockout_risk])
