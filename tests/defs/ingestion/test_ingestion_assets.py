"""Real Dagster materialisations of the ingestion assets, with their checks."""

import shutil

import dagster as dg
import duckdb
import pytest

from pipelines.defs.ingestion import defs as ingestion_defs
from pipelines.defs.quality import defs as quality_defs

ORDER_LINES = dg.AssetKey(["orders", "order_lines"])


@pytest.fixture
def project_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("OEX_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("OEX_INBOX", str(tmp_path / "inbox"))
    monkeypatch.setenv("OEX_DUCKDB_TEMP", str(tmp_path / "duckdb_tmp"))
    return tmp_path


@pytest.fixture
def instance():
    # Held by the test: Dagster keeps only a weak reference to the instance it runs with.
    with dg.instance_for_test() as dagster_instance:
        yield dagster_instance


def order_lines_with_checks() -> list:
    asset = next(a for a in ingestion_defs.assets if a.key == ORDER_LINES)
    checks = [
        c
        for c in quality_defs.asset_checks
        if ORDER_LINES in {key.asset_key for key in c.check_keys}
    ]
    return [asset, *checks]


def test_materialising_a_day_lands_its_file_and_passes_the_checks(
    project_paths, inbox_with, instance
):
    inbox_with("duplicate_keys")

    result = dg.materialize(
        order_lines_with_checks(), partition_key="2026-11-01", instance=instance
    )

    assert result.success
    (materialization,) = result.asset_materializations_for_node("orders__order_lines")
    metadata = {key: value.value for key, value in materialization.metadata.items()}
    assert (
        metadata["files"],
        metadata["rows_read"],
        metadata["rows_loaded"],
        metadata["rows_quarantined"],
    ) == (1, 5, 3, 2)
    assert metadata["rejected_files"] == {}
    checks = {check.check_name: check for check in result.get_asset_check_evaluations()}
    assert checks["rows_accounted"].passed
    assert checks["rows_accounted"].metadata["rows_loaded_quarantined_skipped"].value == 5
    assert checks["gx_contract"].passed and checks["gx_warnings"].passed


def test_a_backfill_range_ingests_every_day_in_one_run(project_paths, inbox_with, instance):
    inbox = inbox_with("clean")
    shutil.copy(
        inbox / "orders" / "order_lines_2026-11-01.csv",
        inbox / "orders" / "order_lines_2026-11-03.csv",
    )
    shutil.copy(
        inbox / "orders" / "order_lines_2026-11-01.csv",
        inbox / "orders" / "order_lines_2026-11-09.csv",
    )  # outside the range

    result = dg.materialize(
        order_lines_with_checks(),
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": "2026-11-01",
            "dagster/asset_partition_range_end": "2026-11-05",
        },
    )

    assert result.success
    materializations = result.asset_materializations_for_node("orders__order_lines")
    assert [m.partition for m in materializations] == [f"2026-11-0{day}" for day in range(1, 6)]
    assert materializations[0].metadata["files_loaded"].value == 2
    with duckdb.connect(str(project_paths / "warehouse.duckdb"), read_only=True) as connection:
        assert connection.execute("select count(*) from raw.order_lines").fetchall() == [(6,)]
        assert connection.execute(
            "select list(source_file order by source_file) from raw.ingested_files"
        ).fetchall() == [
            (["orders/order_lines_2026-11-01.csv", "orders/order_lines_2026-11-03.csv"],)
        ]


def test_a_rejected_file_is_listed_in_the_metadata_and_the_run_goes_on(
    project_paths, inbox_with, instance
):
    inbox_with("missing_columns")

    result = dg.materialize(
        order_lines_with_checks(), partition_key="2026-11-01", instance=instance
    )

    assert result.success
    (materialization,) = result.asset_materializations_for_node("orders__order_lines")
    rejected = materialization.metadata["rejected_files"].value
    assert list(rejected) == ["orders/order_lines_2026-11-01.csv"]
    assert rejected["orders/order_lines_2026-11-01.csv"].startswith(
        "missing required columns: quantity, unit_price."
    )
