"""Dagster definitions, organised by concept: ingestion, quality, transformation, exports, automation."""
