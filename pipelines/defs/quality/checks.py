"""Great Expectations suites on the raw tables, as Dagster asset checks.

Per table, one op runs two checks on the rows of the run's files: `gx_contract` (ERROR,
blocking: downstream models do not run on a raw table that breaks the contract) and
`gx_warnings` (WARN: business exceptions such as invalid phones, keys delivered again).
"""

from datetime import date, timedelta

import dagster as dg
import duckdb
import pandas as pd

from pipelines import settings
from pipelines.contract import Table, load_contract
from pipelines.defs.partitions import DAILY_PARTITIONS, WAREHOUSE_POOL
from pipelines.defs.quality.expectations import (
    ExpectationResult,
    blocking_expectations,
    columns_needed,
    validate,
    warning_expectations,
)

CONTRACT_CHECK = "gx_contract"
WARNING_CHECK = "gx_warnings"
# Files are validated together up to this many rows, so a long backfill stays in memory.
ROWS_PER_BATCH = 2_000_000


def current_files(
    connection: duckdb.DuckDBPyConnection, table: Table, days: list[date] | None
) -> list[tuple[str, int]]:
    """(source_file, rows_loaded) of the current version of each file of these days."""
    return connection.execute(
        """
        with current_versions as (
            select source_file, partition_date, rows_loaded,
            from raw.ingested_files
            where table_name = $table and status in ('loaded', 'replaced')
            qualify row_number() over (partition by source_file order by ingested_at desc) = 1
        )
        select source_file, rows_loaded,
        from current_versions
        where $days is null or list_contains($days, partition_date)
        order by source_file
        """,
        {"table": table.name, "days": days},
    ).fetchall()


def file_batches(files: list[tuple[str, int]]) -> list[list[str]]:
    """Whole files grouped into batches of about ROWS_PER_BATCH rows."""
    batches: list[list[str]] = [[]]
    rows_in_batch = 0
    for source_file, rows in files:
        if batches[-1] and rows_in_batch + rows > ROWS_PER_BATCH:
            batches.append([])
            rows_in_batch = 0
        batches[-1].append(source_file)
        rows_in_batch += rows
    return [batch for batch in batches if batch]


def run_suites(
    connection: duckdb.DuckDBPyConnection, table: Table, days: list[date] | None
) -> dict[str, list[ExpectationResult]]:
    """Both suites over the rows of the days' files, counts summed over the batches."""
    suites = {
        CONTRACT_CHECK: blocking_expectations(table),
        WARNING_CHECK: warning_expectations(table),
    }
    columns = columns_needed([e for suite in suites.values() for e in suite])
    totals: dict[str, dict[tuple[str, str], ExpectationResult]] = {name: {} for name in suites}
    for files in file_batches(current_files(connection, table, days)):
        frame = _frame(connection, table, columns, files)
        for check_name, results in validate(table.name, frame, suites).items():
            _add_up(totals[check_name], results)
    return {name: list(results.values()) for name, results in totals.items()}


def _frame(
    connection: duckdb.DuckDBPyConnection, table: Table, columns: list[str], files: list[str]
) -> pd.DataFrame:
    """The files' rows of raw.<table>, through Arrow: Arrow-backed strings make both the fetch
    and GX about twice as fast. Columns of few distinct values (statuses, the source file)
    become categoricals, which GX hashes, null-checks and set-checks by their codes."""
    # The range lets DuckDB skip the row groups of other files (rows land file by file, so
    # each row group holds few files); without it every batch scanned the whole table.
    arrow = connection.sql(
        f"select {', '.join(columns)} from raw.{table.name} "
        "where _source_file between $first and $last "
        "and _source_file in (select unnest($files))",
        params={"files": files, "first": min(files), "last": max(files)},
    ).to_arrow_table()
    few_values = {"_source_file"} | {c.name for c in table.columns if c.accepted_values}
    for index, name in enumerate(arrow.column_names):
        if name in few_values:
            arrow = arrow.set_column(index, name, arrow.column(index).dictionary_encode())
    return arrow.to_pandas()


def _add_up(
    totals: dict[tuple[str, str], ExpectationResult], results: list[ExpectationResult]
) -> None:
    for result in results:
        key = (result.expectation, result.column)
        earlier = totals.get(key)
        totals[key] = (
            result
            if earlier is None
            else ExpectationResult(
                result.expectation,
                result.column,
                earlier.success and result.success,
                earlier.unexpected_count + result.unexpected_count,
                (earlier.examples + result.examples)[:5],
            )
        )


def check_result(
    check_name: str,
    key: dg.AssetKey,
    results: list[ExpectationResult],
    severity: dg.AssetCheckSeverity,
) -> dg.AssetCheckResult:
    failed = [result for result in results if not result.success]
    return dg.AssetCheckResult(
        check_name=check_name,
        asset_key=key,
        passed=not failed,
        severity=severity,
        metadata={
            "expectations": len(results),
            "failed": dg.MetadataValue.json(
                [
                    {
                        "expectation": r.expectation,
                        "column": r.column,
                        "unexpected_count": r.unexpected_count,
                        "examples": r.examples,
                    }
                    for r in failed
                ]
            ),
        },
    )


def check_days(context: dg.AssetCheckExecutionContext) -> list[date] | None:
    if not (context.has_partition_key or context.has_partition_key_range):
        return None  # no partition given: check every current file
    window = context.partition_key_range
    first, last = date.fromisoformat(window.start), date.fromisoformat(window.end)
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def build_table_checks(table: Table) -> dg.AssetChecksDefinition:
    key = dg.AssetKey([table.domain, table.name])
    specs = [
        dg.AssetCheckSpec(
            CONTRACT_CHECK,
            asset=key,
            blocking=True,
            partitions_def=DAILY_PARTITIONS,
            description="GX: not-null keys, unique key per file, accepted values, "
            "positive quantities, lineage present.",
        ),
        dg.AssetCheckSpec(
            WARNING_CHECK,
            asset=key,
            partitions_def=DAILY_PARTITIONS,
            description="GX: phones that cannot be dialled, keys delivered again in "
            "another file (staging keeps the latest).",
        ),
    ]

    @dg.multi_asset_check(
        specs=specs, name=f"gx_{table.domain}_{table.name}", pool=WAREHOUSE_POOL, can_subset=True
    )
    def gx_checks(context: dg.AssetCheckExecutionContext):
        with duckdb.connect(
            settings.warehouse_path(), read_only=True, config=settings.duckdb_reader_config()
        ) as connection:
            results = run_suites(connection, table, check_days(context))
        selected = {check_key.name for check_key in context.selected_asset_check_keys}
        if CONTRACT_CHECK in selected:
            yield check_result(
                CONTRACT_CHECK, key, results[CONTRACT_CHECK], dg.AssetCheckSeverity.ERROR
            )
        if WARNING_CHECK in selected:
            yield check_result(
                WARNING_CHECK, key, results[WARNING_CHECK], dg.AssetCheckSeverity.WARN
            )

    return gx_checks


gx_asset_checks = [build_table_checks(table) for table in load_contract().values()]
