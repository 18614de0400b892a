"""One Dagster asset per contract table: land the inbox files of the run's days in raw.<table>."""

from collections import Counter
from datetime import date, timedelta

import dagster as dg
import duckdb

from pipelines import settings
from pipelines.contract import Table, load_contract
from pipelines.defs.ingestion.landing import (
    IngestionSummary,
    ingest_table,
    unaccounted_files,
)
from pipelines.defs.partitions import DAILY_PARTITIONS, WAREHOUSE_POOL

ROWS_ACCOUNTED = "rows_accounted"


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """Every day of the run's partition range (one day, or a whole backfill in one run)."""
    window = context.partition_key_range
    first, last = date.fromisoformat(window.start), date.fromisoformat(window.end)
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def connect_warehouse() -> duckdb.DuckDBPyConnection:
    """A connection for one asset; opened per step and closed after, never held."""
    settings.warehouse_path().parent.mkdir(parents=True, exist_ok=True)
    settings.duckdb_temp_dir().mkdir(parents=True, exist_ok=True)
    return duckdb.connect(settings.warehouse_path(), config=settings.duckdb_config())


def summary_metadata(summary: IngestionSummary) -> dict[str, object]:
    """Counts, plus the files that need a person's attention by name.

    A backfill run repeats this metadata on every day of its range, so files that went well
    are counted, not listed.
    """
    encodings = Counter(f.encoding for f in summary.files if f.encoding)
    return {
        "files": len(summary.files),
        "files_loaded": len(summary.by_status("loaded")),
        "files_unchanged": len(summary.by_status("unchanged")),
        "files_replaced": dg.MetadataValue.json(summary.by_status("replaced")),
        "rows_read": summary.rows_read,
        "rows_loaded": summary.rows_loaded,
        "rows_quarantined": summary.rows_quarantined,
        "rows_skipped": summary.rows_skipped,
        "skip_reasons": dg.MetadataValue.json(summary.skip_reasons),
        "rejected_files": dg.MetadataValue.json(summary.rejected),
        "extra_columns_ignored": dg.MetadataValue.json(summary.extra_columns),
        "files_no_profile_claims": dg.MetadataValue.json(summary.unclaimed_files),
        "encodings": dg.MetadataValue.json(dict(encodings)),
    }


def build_ingestion_asset(table: Table) -> dg.AssetsDefinition:
    key = dg.AssetKey([table.domain, table.name])

    @dg.asset(
        key=key,
        group_name=table.domain,
        description=f"raw.{table.name}: {table.description} Landed from data/inbox/"
        f"{table.domain}/ through the source profiles; bad rows go to raw.quarantine.",
        partitions_def=DAILY_PARTITIONS,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        check_specs=[
            dg.AssetCheckSpec(
                ROWS_ACCOUNTED,
                asset=key,
                blocking=True,
                description="Every row read from this run's files is in raw, in quarantine or "
                "skipped by its profile with a reason.",
            )
        ],
    )
    def ingest(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        with connect_warehouse() as connection:
            summary = ingest_table(table.name, connection, partition_days=partition_days(context))
            missing = unaccounted_files(
                connection, table.name, [f.source_file for f in summary.files]
            )
        for source_file, reason in summary.rejected.items():
            context.log.warning(f"rejected {source_file}: {reason}")
        for source_file in summary.unclaimed_files:
            context.log.warning(f"no source profile claims {source_file}; it was not read")
        return dg.MaterializeResult(
            metadata=summary_metadata(summary),
            check_results=[
                dg.AssetCheckResult(
                    check_name=ROWS_ACCOUNTED,
                    passed=not missing,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={
                        "rows_read": summary.rows_read,
                        "rows_loaded_quarantined_skipped": summary.rows_loaded
                        + summary.rows_quarantined
                        + summary.rows_skipped,
                        "files_not_accounted": dg.MetadataValue.json(missing),
                    },
                )
            ],
        )

    return ingest


ingestion_assets = [build_ingestion_asset(table) for table in load_contract().values()]
