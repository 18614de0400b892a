"""Two exported marts files, compared row for row: the same columns with the same types, the
same rows once both are sorted by every column, numbers equal within a relative 1e-9 (two
engines may add floating-point numbers in another order), everything else exactly equal.
Times are compared as written: both exports hold naive UTC times.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import duckdb

NUMERIC = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")
RELATIVE = 1e-9
ABSOLUTE = 1e-12  # a sum that is 0 on one engine can be 1e-17 on the other
SHOWN = 5


def _is_float(data_type: str) -> bool:
    return data_type.startswith(NUMERIC)


def schema(path: Path) -> list[tuple[str, str]]:
    with duckdb.connect() as connection:
        return [
            (name, data_type)
            for name, data_type, *_ in connection.execute(
                "describe select * from read_parquet(?)", [str(path)]
            ).fetchall()
        ]


def sorted_rows(path: Path, columns: list[tuple[str, str]]) -> list[tuple]:
    """Every row, sorted by the exact columns first and the floating ones last (their last
    digits may differ between engines; the exact ones decide the order whenever they can)."""
    exact = [name for name, data_type in columns if not _is_float(data_type)]
    inexact = [name for name, data_type in columns if _is_float(data_type)]
    order = ", ".join(f'"{name}" nulls first' for name in [*exact, *inexact])
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        return connection.execute(
            f"select * from read_parquet(?) order by {order}" if order else "select 1",
            [str(path)],
        ).fetchall()


def _same(left: object, right: object) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, float | Decimal) and isinstance(right, float | Decimal):
        return math.isclose(float(left), float(right), rel_tol=RELATIVE, abs_tol=ABSOLUTE)
    return left == right


def differences(left: Path, right: Path) -> list[str]:
    """What differs between two marts files, in words; empty when they are equal."""
    left_schema, right_schema = schema(left), schema(right)
    if left_schema != right_schema:
        return [f"columns differ:\n  {left_schema}\n  {right_schema}"]
    left_rows = sorted_rows(left, left_schema)
    right_rows = sorted_rows(right, right_schema)
    if len(left_rows) != len(right_rows):
        return [f"{len(left_rows)} rows against {len(right_rows)}"]
    found = []
    names = [name for name, _ in left_schema]
    for number, (left_row, right_row) in enumerate(zip(left_rows, right_rows, strict=True)):
        columns = [
            name
            for name, left_value, right_value in zip(names, left_row, right_row, strict=True)
            if not _same(left_value, right_value)
        ]
        if columns:
            found.append(f"row {number} differs in {columns}:\n  {left_row}\n  {right_row}")
            if len(found) == SHOWN:
                break
    return found
