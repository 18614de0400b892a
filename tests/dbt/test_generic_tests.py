"""The project's own generic tests catch what they promise, on a copy of the fixture build.

`unique` is overridden (macros/generic_tests.sql: repeats looked for by hash first, and on a
daily run only among the keys staged since the last build), so it is run here on tables with a
planted repeat, next to the untouched one it passes on.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import duckdb
from raw_fixture import DBT


def run_test(fixture_build, tmp_path, selector: str, plant: str | None = None, command=("test",)):
    """`dbt test --select selector` (or another command) on a copy of the fixture warehouse,
    after `plant` (SQL)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(fixture_build.warehouse, warehouse)
    if plant:
        with duckdb.connect(str(warehouse)) as connection:
            connection.execute(plant)
    project = fixture_build.project_dir
    return subprocess.run(
        [str(DBT), *command, "--select", *selector.split(), "--project-dir", str(project)],
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


# a copy of the first order's staged row, as if a file ingested after the last build held it
LATE_REPEAT = """
insert into staging.stg_orders__orders
select * replace ('orders/late_delivery.csv' as source_file)
from staging.stg_orders__orders order by order_id limit 1;
insert into raw.ingested_files (source_file, table_name, status, ingested_at)
values ('orders/late_delivery.csv', 'orders', 'loaded', now()::timestamp + interval 1 day);
"""
# a copy of a row staged by an earlier build: the daily run does not look at it again...
OLD_REPEAT = (
    "insert into staging.stg_orders__orders "
    "select * from staging.stg_orders__orders order by order_id limit 1"
)
# ...a run with no successful build recorded (first build, after a failure) does
NO_BUILD_RECORDED = "drop table intermediate.incremental_watermark"


def assert_fails_once(result):
    assert result.returncode == 1
    assert "ERROR=1" in result.stdout, result.stdout[-3000:]
    assert "Got 1 result, configured to fail if != 0" in result.stdout


def test_unique_fails_on_a_key_repeated_by_a_new_file(fixture_build, tmp_path):
    result = run_test(fixture_build, tmp_path, "unique_stg_orders__orders_order_id", LATE_REPEAT)
    assert_fails_once(result)


def test_a_daily_run_leaves_rows_checked_by_the_last_build_alone(fixture_build, tmp_path):
    result = run_test(fixture_build, tmp_path, "unique_stg_orders__orders_order_id", OLD_REPEAT)
    assert result.returncode == 0, result.stdout[-3000:]


def test_unique_checks_every_key_when_no_build_is_recorded(fixture_build, tmp_path):
    plant = f"{OLD_REPEAT}; {NO_BUILD_RECORDED}"
    result = run_test(fixture_build, tmp_path, "unique_stg_orders__orders_order_id", plant)
    assert_fails_once(result)


def test_unique_checks_every_key_of_a_table_not_staged_by_key(fixture_build, tmp_path):
    repeat = "insert into marts.fct_orders select * from marts.fct_orders order by order_id limit 1"
    result = run_test(fixture_build, tmp_path, "unique_fct_orders_order_id", repeat)
    assert_fails_once(result)


# Tests of tables rebuilt by order read only the rebuilt orders on a daily `dbt build`
# (macros/test_scope.sql). The facts' build, with its scopes:
REBUILD_FCT_ORDERS = (
    "int_orders__rebuild_scope int_orders__context int_exceptions__rebuild_scope fct_orders"
)
# an order's channel lost in staging: the rebuilt fact row carries it
NULL_CHANNEL_STAGED = (
    "update staging.stg_orders__orders set channel = null"
    " where order_id = (select min(order_id) from staging.stg_orders__orders)"
)
# the same in a fact row no run rebuilds (written, and tested, by an earlier build)
NULL_CHANNEL_IN_OLD_FACT = (
    "update marts.fct_orders set channel = null"
    " where order_id = (select min(order_id) from marts.fct_orders)"
)


def run_build(fixture_build, tmp_path, plant: str, lookback_days: int):
    """`dbt build` of fct_orders and its scopes on a copy of the fixture warehouse."""
    return run_test(
        fixture_build,
        tmp_path,
        REBUILD_FCT_ORDERS,
        plant,
        command=["build", "--vars", f"{{lookback_days: {lookback_days}}}"],
    )


def test_a_daily_build_tests_the_orders_it_rebuilt(fixture_build, tmp_path):
    # every order of the fixture is in a look-back of ten years: all are rebuilt
    result = run_build(fixture_build, tmp_path, NULL_CHANNEL_STAGED, lookback_days=3650)
    assert result.returncode == 1
    assert "not_null_fct_orders_channel" in result.stdout
    assert "Got 1 result, configured to fail if != 0" in result.stdout, result.stdout[-3000:]


def test_a_daily_build_reads_only_the_rebuilt_orders_and_dbt_test_reads_all(
    fixture_build, tmp_path
):
    built = run_build(fixture_build, tmp_path / "build", NULL_CHANNEL_IN_OLD_FACT, lookback_days=0)
    assert built.returncode == 0, built.stdout[-3000:]  # the row no run rewrote is not re-read
    compiled = next(fixture_build.project_dir.rglob("run/**/not_null_fct_orders_channel.sql"))
    assert "int_exceptions__rebuild_scope" in compiled.read_text(encoding="utf-8")

    tested = run_test(
        fixture_build, tmp_path / "test", "not_null_fct_orders_channel", NULL_CHANNEL_IN_OLD_FACT
    )
    assert_fails_once(tested)
