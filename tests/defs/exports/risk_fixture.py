"""The risk marts of the export fixture (a module of its own, like report_weeks: test files
import its constants). Every identifier carries its merchant's prefix, as in conftest."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
from report_weeks import WEEK_START_UTC
from serving_contract import RISK_SERVING_CONTRACT

from pipelines import catalogue

# The risk marts: scored on the Monday after the report's week, 10:00 in Shanghai (the
# report of WEEK looks ahead to the next one). Each merchant has four open orders, of which the
# last is below the 30% a report lists from, and three SKUs, the last with enough stock.
RISK_AS_OF = WEEK_START_UTC + timedelta(days=7, hours=10)
LATE_PROBABILITIES = (0.45, 0.82, 0.31, 0.12)
# (days of cover, lead time, expected impact): the first two run out before replenishment
STOCK = ((4.0, 7.0, 2.5), (1.5, 5.0, 6.0), (20.0, 5.0, 0.1))
# Text from partners' exports lands in these files too: a route that is a formula, or markup.
HOSTILE_ROUTE = '=HYPERLINK("http://evil.example","x")'
MARKUP_ROUTE = "WH-SH → <img src=x onerror=alert(1)>"


def write_risk_marts(folder: Path, merchants: list) -> None:
    """rpt_delivery_risk and rpt_stockout_risk for the merchants, as the risk assets write them."""
    delivery = []
    for merchant in merchants:
        for number, probability in enumerate(LATE_PROBABILITIES):
            in_transit = number % 2 == 0
            paid_at = RISK_AS_OF - timedelta(hours=10 + 12 * number)
            route = {1: HOSTILE_ROUTE, 2: MARKUP_ROUTE}.get(number, "WH-SH → 浙江省")
            risk_type = "delivery_overdue" if in_transit else "late_handoff"
            delivery.append(
                {
                    "order_id": merchant.risk_order_id(number),
                    "merchant_id": merchant.merchant_id,
                    "merchant_name": merchant.merchant_name,
                    "warehouse_id": "WH-SH",
                    "carrier": "zto" if in_transit else None,
                    "province": "浙江省",
                    "route": route,
                    "stage": "in_transit" if in_transit else "awaiting_handoff",
                    "placed_at": paid_at - timedelta(minutes=2),
                    "paid_at": paid_at,
                    "ship_by_at": paid_at + timedelta(hours=24),
                    "promised_delivery_at": paid_at + timedelta(days=3),
                    "last_scan_at": paid_at + timedelta(hours=8) if in_transit else None,
                    "age_hours": 10.0 + 12 * number,
                    "late_probability": probability,
                    "baseline_probability": 0.1,
                    "risk_type": risk_type,
                    "owner_team": "customer_service" if in_transit else "warehouse",
                    "suggested_action": catalogue.exception_types()[risk_type].guidelines["en"],
                    "expected_impact": probability,
                    "model_version": "hgb-test",
                    "features_as_of": RISK_AS_OF,
                }
            )
    frame = pd.DataFrame(delivery, columns=RISK_SERVING_CONTRACT["rpt_delivery_risk"])
    for column in ("placed_at", "paid_at", "ship_by_at", "promised_delivery_at", "last_scan_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    frame["features_as_of"] = frame["features_as_of"].astype("datetime64[us]")
    frame.to_parquet(folder / "rpt_delivery_risk.parquet", index=False)

    stock = [
        {
            "warehouse_id": "WH-SH",
            "sku": f"SKU-{merchant.prefix}-{number}",
            "merchant_id": merchant.merchant_id,
            "merchant_name": merchant.merchant_name,
            "available": int(cover * 2),
            "forecast_daily_demand": 2.0,
            "days_of_cover": cover,
            "lead_time_days": lead_time,
            "expected_stockout_date": (RISK_AS_OF + timedelta(days=cover, hours=8)).date(),
            "stockout_probability": 0.9 if cover < lead_time else 0.05,
            "is_at_risk": cover < lead_time,
            "open_orders": 2,
            "expected_orders": max(lead_time - cover, 0) * 2.0,
            "expected_impact": impact,
            "suggested_action_zh": catalogue.exception_types()["out_of_stock"].actions["zh-CN"],
            "suggested_action_en": catalogue.exception_types()["out_of_stock"].actions["en"],
            "owner_team": "merchant",
            "model_version": "ets-test",
            "features_as_of": RISK_AS_OF,
        }
        for merchant in merchants
        for number, (cover, lead_time, impact) in enumerate(STOCK)
    ]
    frame = pd.DataFrame(stock, columns=RISK_SERVING_CONTRACT["rpt_stockout_risk"])
    frame["features_as_of"] = frame["features_as_of"].astype("datetime64[us]")
    frame.to_parquet(folder / "rpt_stockout_risk.parquet", index=False)
