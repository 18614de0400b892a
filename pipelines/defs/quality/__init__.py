"""Quality: Great Expectations suites on the raw tables, as Dagster asset checks."""

import dagster as dg

from pipelines.defs.quality.checks import gx_asset_checks

defs = dg.Definitions(asset_checks=gx_asset_checks)
