"""Ingestion: inbox files -> typed raw tables, quarantine and the ledger, one asset per table."""

import dagster as dg

from pipelines.defs.ingestion.assets import ingestion_assets
from pipelines.defs.ingestion.landing import IngestionSummary, ingest_table

__all__ = ["IngestionSummary", "defs", "ingest_table"]

defs = dg.Definitions(assets=ingestion_assets)
