"""The Parquet copy of raw that the Spark engine reads: the same rows as raw, one file per day
of ingestion, and a daily copy that rewrites only the days that changed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.defs.transformation.raw_parquet import (
    EMPTY_TABLE,
    WHOLE_TABLE,
    export_raw_tables,
)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema raw")
        connection.execute(
            "create table raw.orders (order_id varchar, amount decimal(14,2),"
            " _source_file varchar, _ingested_at timestamp)"
        )
        connection.execute(
            "insert into raw.orders values"
            " ('A', 1.50, 'a.csv', timestamp '2026-11-01 08:00:00'),"
            " ('B', 2.00, 'a.csv', timestamp '2026-11-01 08:00:00'),"
            " ('C', 3.25, 'b.csv', timestamp '2026-11-02 08:00:00')"
        )
        connection.execute("create table raw.stock_snapshots (sku varchar, _ingested_at timestamp)")
        connection.execute("create table raw.ingested_files (source_file varchar, status varchar)")
        connection.execute("insert into raw.ingested_files values ('a.csv', 'loaded')")
    return path


def _execute(warehouse: Path, sql: str) -> None:
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(sql)


def _rows(folder: Path) -> list[tuple]:
    with duckdb.connect() as connection:
        return connection.execute(
            "select * from read_parquet(?) order by all", [str(folder / "*.parquet")]
        ).fetchall()


def _raw(warehouse: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(f"select * from raw.{table} order by all").fetchall()


def test_every_raw_table_is_copied_with_its_rows_and_types(warehouse, tmp_path):
    raw_dir = tmp_path / "lake" / "raw"
    exports = export_raw_tables(warehouse, raw_dir)
    assert sorted(exports) == ["ingested_files", "orders", "stock_snapshots"]
    assert sorted(path.name for path in (raw_dir / "orders").glob("*.parquet")) == [
        "2026-11-01.parquet",
        "2026-11-02.parquet",
    ]
    assert _rows(raw_dir / "orders") == _raw(warehouse, "orders")
    assert exports["orders"].rows == 3
    # the bookkeeping tables (no ingestion time) are written whole
    assert [path.name for path in (raw_dir / "ingested_files").glob("*.parquet")] == [WHOLE_TABLE]
    # a table without rows still has a file, which gives Spark its columns
    assert [path.name for path in (raw_dir / "stock_snapshots").glob("*.parquet")] == [EMPTY_TABLE]
    with duckdb.connect() as connection:
        columns = connection.execute(
            "describe select * from read_parquet(?)",
            [str(raw_dir / "orders" / "2026-11-01.parquet")],
        ).fetchall()
    assert [(name, kind) for name, kind, *_ in columns] == [
        ("order_id", "VARCHAR"),
        ("amount", "DECIMAL(14,2)"),
        ("_source_file", "VARCHAR"),
        ("_ingested_at", "TIMESTAMP"),
    ]


def test_a_daily_copy_rewrites_only_the_days_that_changed(warehouse, tmp_path):
    raw_dir = tmp_path / "lake" / "raw"
    export_raw_tables(warehouse, raw_dir)
    assert export_raw_tables(warehouse, raw_dir)["orders"].files_written == []

    _execute(warehouse, "insert into raw.orders values ('D', 4, 'c.csv', '2026-11-03 09:00')")
    assert export_raw_tables(warehouse, raw_dir)["orders"].files_written == ["2026-11-03.parquet"]

    # a corrected re-delivery: a.csv's rows replaced by one row, ingested on the new day
    _execute(warehouse, "delete from raw.orders where order_id = 'B'")
    _execute(warehouse, "insert into raw.orders values ('E', 5, 'a.csv', '2026-11-03 10:00')")
    export = export_raw_tables(warehouse, raw_dir)["orders"]
    assert export.files_written == ["2026-11-01.parquet", "2026-11-03.parquet"]
    assert _rows(raw_dir / "orders") == _raw(warehouse, "orders")

    # a day whose rows are all gone loses its file
    _execute(warehouse, "delete from raw.orders where _source_file = 'b.csv'")
    export = export_raw_tables(warehouse, raw_dir)["orders"]
    assert export.files_removed == ["2026-11-02.parquet"]
    assert _rows(raw_dir / "orders") == _raw(warehouse, "orders")


def test_rows_arriving_in_an_empty_table_replace_its_empty_file(warehouse, tmp_path):
    raw_dir = tmp_path / "lake" / "raw"
    export_raw_tables(warehouse, raw_dir)
    _execute(warehouse, "insert into raw.stock_snapshots values ('S1', '2026-11-02 07:00')")
    export_raw_tables(warehouse, raw_dir)
    assert [path.name for path in (raw_dir / "stock_snapshots").glob("*.parquet")] == [
        "2026-11-02.parquet"
    ]


def test_a_new_column_rewrites_every_day(warehouse, tmp_path):
    """Spark takes a folder's columns from one of its files: they must all agree."""
    raw_dir = tmp_path / "lake" / "raw"
    export_raw_tables(warehouse, raw_dir)
    _execute(warehouse, "alter table raw.orders add column channel varchar")
    export = export_raw_tables(warehouse, raw_dir)["orders"]
    assert export.files_written == ["2026-11-01.parquet", "2026-11-02.parquet"]
    assert _rows(raw_dir / "orders") == _raw(warehouse, "orders")
