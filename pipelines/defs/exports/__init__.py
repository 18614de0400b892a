"""Merchant report files: the weekly XLSX and HTML report of each merchant."""

import dagster as dg

from pipelines.defs.exports.assets import merchant_reports

defs = dg.Definitions(assets=[merchant_reports])
