"""Dagster definitions by concept: ingestion, quality, transformation, exports, automation."""
