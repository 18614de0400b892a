"""Transformation: the dbt project as assets (tests as asset checks) and the marts export."""

import dagster as dg

from pipelines.defs.transformation.assets import (
    ON_SPARK,
    dbt_resource,
    exported_marts,
    order_exceptions_dbt,
    raw_parquet,
)
from pipelines.defs.transformation.marts_export import export_marts

__all__ = ["defs", "export_marts"]

defs = dg.Definitions(
    # on Spark the dbt build reads the Parquet copy of raw (OEX_ENGINE; README, "Scaling out")
    assets=[*([raw_parquet] if ON_SPARK else []), order_exceptions_dbt, exported_marts],
    resources={"dbt": dbt_resource()},
)
