"""Load a hand-made fixture into the raw schema of a fresh DuckDB file, as ingestion would.

Each table of the input contract becomes raw.<table> with exactly the contract columns and
types followed by the lineage columns. A fixture CSV (tests/fixtures/dbt/<table>.csv) holds
contract columns and may add `_ingested_at` to play a later file re-sending a key.
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.contract import LINEAGE_COLUMNS, load_contract

FIXTURE_DIR = settings.PROJECT_ROOT / "tests" / "fixtures" / "dbt"
DBT = Path(sys.executable).parent / "dbt"


def copy_project(target: Path) -> Path:
    """A copy of the dbt project whose seeds are the fixture's where it has its own."""
    project = target / "dbt_project"
    shutil.copytree(
        settings.DBT_PROJECT_DIR,
        project,
        ignore=shutil.ignore_patterns("target", "logs", ".user.yml"),
    )
    for seed in (FIXTURE_DIR / "seeds").glob("*.csv"):
        shutil.copy(seed, project / "seeds" / seed.name)
    return project


BOOKKEEPING_TABLES = {
    "ingested_files": {
        "source_file": "varchar",
        "table_name": "varchar",
        "domain": "varchar",
        "file_hash": "varchar",
        "profile": "varchar",
        "partition_date": "date",
        "rows_read": "bigint",
        "rows_loaded": "bigint",
        "rows_quarantined": "bigint",
        "status": "varchar",
        "message": "varchar",
        "ingested_at": "timestamp",
        "rows_skipped": "bigint",
        "skip_reasons": "varchar",
        "columns_not_provided": "varchar",
    },
    "profile_inputs": {"profile": "varchar", "input": "varchar", "is_provided": "boolean"},
    "replaced_keys": {
        "table_name": "varchar",
        "source_file": "varchar",
        "order_id": "varchar",
        "tracking_number": "varchar",
        "sku": "varchar",
        "product_id": "varchar",
        "warehouse_id": "varchar",
        "snapshot_date": "date",
        "ingested_at": "timestamp",
    },
    "quarantine": {
        "domain": "varchar",
        "table_name": "varchar",
        "source_file": "varchar",
        "line_number": "bigint",
        "column_name": "varchar",
        "reason": "varchar",
        "raw_record": "varchar",
        "file_hash": "varchar",
        "quarantined_at": "timestamp",
    },
}
DEFAULT_INGESTED_AT = "2026-11-20 00:00:00"


def _create(connection: duckdb.DuckDBPyConnection, name: str, columns: dict[str, str]) -> None:
    # identifiers come from the contract, never from fixture content
    definition = ", ".join(f'"{column}" {data_type}' for column, data_type in columns.items())
    connection.execute(f"create table raw.{name} ({definition})")


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _value(text: str | None):
    # an empty cell is a null, as the exports mean it
    return None if text is None or text == "" else text


def load_raw_fixture(warehouse: Path, fixture_dir: Path) -> dict[str, int]:
    """Create raw.* in `warehouse` from the CSVs in `fixture_dir`; returns rows per table."""
    loaded: dict[str, int] = {}
    connection = duckdb.connect(str(warehouse))
    try:
        connection.execute("create schema if not exists raw")
        for table in load_contract().values():
            columns = {column.name: column.data_type for column in table.columns}
            _create(connection, table.name, columns | LINEAGE_COLUMNS)
            rows = _rows(fixture_dir / f"{table.name}.csv")
            placeholders = ", ".join("?" for _ in range(len(columns) + len(LINEAGE_COLUMNS)))
            for line_number, row in enumerate(rows, start=2):
                values = [_value(row.get(column)) for column in columns]
                lineage = [
                    f"{table.domain}/{table.name}.csv",
                    line_number,
                    "fixture",
                    row.get("_ingested_at") or DEFAULT_INGESTED_AT,
                ]
                connection.execute(
                    f"insert into raw.{table.name} values ({placeholders})", values + lineage
                )
            loaded[table.name] = len(rows)
        for name, columns in BOOKKEEPING_TABLES.items():
            _create(connection, name, columns)
            rows = _rows(fixture_dir / f"{name}.csv")
            placeholders = ", ".join("?" for _ in columns)
            for row in rows:
                connection.execute(
                    f"insert into raw.{name} values ({placeholders})",
                    [_value(row.get(column)) for column in columns],
                )
            loaded[name] = len(rows)
    finally:
        connection.close()
    return loaded
