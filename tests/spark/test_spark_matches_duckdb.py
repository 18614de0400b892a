"""The dbt project on Spark builds the marts it builds on DuckDB, row for row: after a full
build, and after a daily run (a new day, and a corrected re-delivery withdrawing an order)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines import marts as mart_files
from pipelines import settings

sys.path.insert(0, str(Path(__file__).parent))
from compare import differences

# every model under models/marts/ is exported; the list is read from the project, so a new
# mart is compared without a change here
MARTS = sorted(path.stem for path in (settings.DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql"))
STEPS = ["full", "daily"]


def test_every_mart_is_exported_by_both_engines(builds):
    for step in STEPS:
        for engine in ("duckdb", "spark"):
            exported = sorted(
                path.name.removesuffix(".parquet")
                for path in builds.marts[(engine, step)].iterdir()
                if path.suffix == ".parquet" or path.is_dir()  # a file, or a fact's weeks
            )
            assert exported == MARTS, (engine, step)


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("mart", MARTS)
def test_spark_mart_equals_duckdb_mart(builds, step, mart):
    found = differences(
        Path(mart_files.source(builds.marts[("duckdb", step)], mart)),
        Path(mart_files.source(builds.marts[("spark", step)], mart)),
    )
    assert not found, f"{mart} after the {step} build, DuckDB then Spark:\n" + "\n".join(found)


def test_marts_hold_the_sample(builds):
    """Equal because both are full, not because both are empty."""
    with duckdb.connect() as connection:
        for step in STEPS:
            marts = builds.marts[("spark", step)]
            (orders,) = connection.execute(
                "select count(*) from read_parquet(?)", [mart_files.source(marts, "fct_orders")]
            ).fetchone()
            (exceptions,) = connection.execute(
                "select count(*) from read_parquet(?)",
                [mart_files.source(marts, "fct_order_exceptions")],
            ).fetchone()
            assert orders > 1500 and exceptions > 50, (step, orders, exceptions)


def _orders_rebuilt(log: str) -> int:
    (count,) = re.findall(r"int_orders__rebuild_scope: (\d+) orders rebuilt", log)
    return int(count)


def test_daily_run_on_spark_rebuilds_only_the_touched_orders(builds):
    """The daily run is incremental on Spark too: it rebuilds the orders DuckDB rebuilds (the
    new day's, the corrected day's, those of SKUs and stock that changed), not every order."""
    spark, duck = builds.engines["spark"], builds.engines["duckdb"]
    rebuilt = _orders_rebuilt(spark.logs["daily"])
    assert rebuilt == _orders_rebuilt(duck.logs["daily"])
    with duckdb.connect() as connection:
        (orders,) = connection.execute(
            "select count(*) from read_parquet(?)",
            [mart_files.source(builds.marts[("spark", "daily")], "fct_orders")],
        ).fetchone()
    assert 0 < rebuilt < orders * 0.8, (rebuilt, orders)


def test_withdrawn_order_leaves_the_spark_facts(builds):
    """The corrected re-delivery withdrew an order's header, lines and status log: the daily
    run removes it from the order facts (its parcel and tickets, still delivered, stay in the
    timeline, on both engines alike)."""
    withdrawn = builds.withdrawn_order
    with duckdb.connect() as connection:
        for mart in ("fct_orders", "fct_order_exceptions"):
            full, daily = (
                connection.execute(
                    "select count(*) from read_parquet(?) where order_id = ?",
                    [mart_files.source(builds.marts[("spark", step)], mart), withdrawn],
                ).fetchone()[0]
                for step in STEPS
            )
            if mart == "fct_orders":
                assert full == 1, mart
            assert daily == 0, mart
