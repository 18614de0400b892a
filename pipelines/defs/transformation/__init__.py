"""Transformation: the dbt project as assets (tests as asset checks) and the marts export."""

import dagster as dg

from pipelines.defs.transformation.assets import dbt_resource, exported_marts, order_exceptions_dbt
from pipelines.defs.transformation.marts_export import export_marts

__all__ = ["defs", "export_marts"]

defs = dg.Definitions(
    assets=[order_exceptions_dbt, exported_marts],
    resources={"dbt": dbt_resource()},
)
