"""Where a mart's rows are in a published set of marts: one place every reader asks.

Most marts are one Parquet file, `<name>.parquet`. The facts that grow with the history are a
folder with one file per partition, `<name>/<partition>.parquet`: a daily run changes few of
their partitions, and the export rewrites only those (pipelines/defs/transformation/
marts_export.py). A reader takes `source()` for DuckDB's read_parquet (a file or a glob over
the folder) or `read()` for a data frame, and never needs to know which layout a mart has: a
folder of single files (a test fixture, an older export a user copied) reads the same way.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

# mart -> the SQL expression naming each row's partition. Weeks, because a daily run touches
# the orders of the last days and a few late scans: at 10M orders over 13 weeks it rewrote
# 117M timeline rows to change the rows of two or three weeks. The timeline is split by the
# week of its events, so an older order's rows that a rebuild leaves as they were stay put.
PARTITIONED = {
    "fct_orders": "week",
    "fct_order_exceptions": "week",
    "fct_order_timeline": "strftime(occurred_at, '%G-W%V')",
}
NO_PARTITION = "none"  # the partition of rows whose key is null, and of an empty mart


def location(folder: Path, name: str) -> Path:
    """The mart's folder of partitions if it has one, else its file."""
    partitioned = folder / name
    return partitioned if partitioned.is_dir() else folder / f"{name}.parquet"


def exists(folder: Path, name: str) -> bool:
    return location(folder, name).exists()


def files(folder: Path, name: str) -> list[Path]:
    """Every Parquet file holding the mart's rows."""
    where = location(folder, name)
    if where.is_dir():
        return sorted(where.glob("*.parquet"))
    return [where] if where.exists() else []


def source(folder: Path, name: str) -> str:
    """What DuckDB's read_parquet reads for the mart: its file, or a glob over its partitions."""
    where = location(folder, name)
    return str(where / "*.parquet") if where.is_dir() else str(where)


def read(folder: Path, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """The mart as one data frame."""
    return pd.read_parquet(location(folder, name), columns=columns)
