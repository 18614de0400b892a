"""What could go silently wrong on Spark and not on DuckDB: the incremental strategies reading
the run's new rows after changing the target, and text literals read another way by Spark's
parser (a regex's '\\s' becoming the letter s)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from spark_probes import PROBE_SCHEMA, PROBES


def _spark_rows(builds, schema: str, name: str, sql: str = "select * from rows") -> list[tuple]:
    files = str(builds.spark_table(schema, name) / "*.parquet")
    with duckdb.connect() as connection:
        connection.read_parquet(files).create_view("rows")
        return connection.execute(sql).fetchall()


def _duckdb_rows(builds, schema: str, name: str, sql: str = "select * from rows") -> list[tuple]:
    with duckdb.connect(str(builds.warehouse), read_only=True) as connection:
        connection.execute(f"create temp view rows as select * from {schema}.{name}")
        return connection.execute(sql).fetchall()


@pytest.mark.parametrize("probe", sorted(PROBES))
def test_new_rows_are_read_once_before_the_target_changes(builds, probe):
    """A probe's daily run re-reads every row of its previous build, one build higher: each
    row must come back once, on both engines. Reading dbt-spark's temporary view of the new
    rows after the target was overwritten or emptied would find none of them."""
    count = "select count(*), min(builds), max(builds) from rows"
    (spark,) = _spark_rows(builds, PROBE_SCHEMA, probe, count)
    (duck,) = _duckdb_rows(builds, PROBE_SCHEMA, probe, count)
    assert spark == duck
    rows, fewest, most = spark
    assert rows > 1500 and fewest == most == 2


def test_text_literal_test_ran_and_passed_on_spark(builds):
    """The dbt test of macros/text_helpers.sql (a regex's backslashes, a quote) ran in the
    Spark build and passed: it fails there when a literal is escaped as DuckDB reads it."""
    log = re.sub(r"\x1b\[[0-9;]*m", "", builds.engines["spark"].logs["full"])
    assert re.search(r"PASS assert_text_literals_reach_the_engine_as_written ", log), log[-3000:]


def test_address_recurrence_keys_lose_their_spaces_not_their_letters(builds):
    """The address key normalises spacing (regex '\\s'): on Spark as on DuckDB."""
    sql = (
        "select recurrence_key from rows where recurrence_key_type = 'address'"
        " order by recurrence_key"
    )
    spark = _spark_rows(builds, "intermediate", "int_exceptions__recurrence", sql)
    duck = _duckdb_rows(builds, "intermediate", "int_exceptions__recurrence", sql)
    assert spark == duck
    assert spark, "the sample has address exceptions"
    assert not any(re.search(r"\s", key) for (key,) in spark if key)
