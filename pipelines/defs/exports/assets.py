"""The Dagster asset behind the merchants' weekly report files."""

from datetime import date

import dagster as dg

from pipelines import settings
from pipelines.defs.exports.naming import iso_week
from pipelines.defs.exports.reports import NothingToExportError, export_week
from pipelines.defs.partitions import WEEKLY_PARTITIONS


def week_of_partition(partition_key: str) -> str:
    """A weekly partition is keyed by its Monday ('2026-11-09'); reports use ISO weeks."""
    return iso_week(date.fromisoformat(partition_key))


@dg.asset(
    partitions_def=WEEKLY_PARTITIONS,
    # Produced by the transformation area; declared by key so this area imports on its own.
    deps=[dg.AssetKey(["exported_marts"])],
    group_name="exports",
    kinds={"excel", "html"},
)
def merchant_reports(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Each merchant's weekly report (XLSX workbook and offline HTML) with only its own orders,
    written to data/exports/<ISO week>/<merchant>/ with a manifest of SHA-256 sums."""
    week = week_of_partition(context.partition_key)
    try:
        paths = export_week(week)
    except NothingToExportError as nothing:
        context.log.warning(str(nothing))
        return dg.MaterializeResult(metadata={"week": week, "merchants": 0, "files": 0})
    reports = [path for path in paths if path.suffix == ".xlsx"]
    context.log.info(f"wrote {len(reports)} merchant workbooks for {week}")
    return dg.MaterializeResult(
        metadata={
            "week": week,
            "merchants": len(reports),
            "files": len(paths),
            "folder": dg.MetadataValue.path(str(settings.exports_dir() / week)),
            "manifest": dg.MetadataValue.path(str(paths[-1])),
        }
    )
