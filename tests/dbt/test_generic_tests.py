"""The project's own generic tests catch what they promise, on a copy of the fixture build.

`unique` is overridden (macros/generic_tests.sql: repeats looked for by hash first), so it is
run here on a table with a planted repeat, next to the untouched one it passes on.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import duckdb
from conftest import DBT


def run_test(fixture_build, tmp_path, selector: str, plant: str | None = None):
    """`dbt test --select selector` on a copy of the fixture warehouse, after `plant` (SQL)."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(fixture_build.warehouse, warehouse)
    if plant:
        with duckdb.connect(str(warehouse)) as connection:
            connection.execute(plant)
    project = fixture_build.project_dir
    return subprocess.run(
        [str(DBT), "test", "--select", selector, "--project-dir", str(project)],
        cwd=project,
        env=os.environ
        | {
            "OEX_WAREHOUSE": str(warehouse),
            "OEX_DUCKDB_TEMP": str(tmp_path / "tmp"),
            "DBT_PROFILES_DIR": str(project),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        },
        capture_output=True,
        text=True,
        check=False,
    )


def test_unique_passes_on_distinct_keys(fixture_build, tmp_path):
    result = run_test(fixture_build, tmp_path, "unique_stg_orders__orders_order_id")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "ERROR=0" in result.stdout


def test_unique_fails_on_a_repeated_key(fixture_build, tmp_path):
    repeat = (
        "insert into staging.stg_orders__orders "
        "select * from staging.stg_orders__orders order by order_id limit 1"
    )
    result = run_test(fixture_build, tmp_path, "unique_stg_orders__orders_order_id", repeat)
    assert result.returncode == 1
    assert "ERROR=1" in result.stdout, result.stdout[-3000:]
    assert "Got 1 result, configured to fail if != 0" in result.stdout
