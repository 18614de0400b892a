"""The Great Expectations suites as Dagster asset checks on the raw tables."""

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs.ingestion import defs as ingestion_defs
from pipelines.defs.ingestion import ingest_table
from pipelines.defs.partitions import DAILY_PARTITIONS
from pipelines.defs.quality import defs as quality_defs

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "inbox"
ORDERS = dg.AssetKey(["orders", "orders"])
ORDER_LINES = dg.AssetKey(["orders", "order_lines"])


@pytest.fixture
def warehouse_path(tmp_path, monkeypatch):
    monkeypatch.setenv("OEX_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("OEX_INBOX", str(tmp_path / "inbox"))
    monkeypatch.setenv("OEX_DUCKDB_TEMP", str(tmp_path / "duckdb_tmp"))
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def instance():
    # Held by the test: Dagster keeps only a weak reference to the instance it runs with.
    with dg.instance_for_test() as dagster_instance:
        yield dagster_instance


def with_checks(key: dg.AssetKey) -> list:
    asset = next(a for a in ingestion_defs.assets if a.key == key)
    checks = [c for c in quality_defs.asset_checks if key in {k.asset_key for k in c.check_keys}]
    return [asset, *checks]


def evaluations(result) -> dict:
    return {check.check_name: check for check in result.get_asset_check_evaluations()}


def test_an_invalid_phone_warns_only_for_the_day_that_has_it(warehouse_path, tmp_path, instance):
    inbox = tmp_path / "inbox"
    shutil.copytree(FIXTURES / "gbk", inbox)  # O1002 has the phone 1391234
    bad_day = inbox / "orders" / "orders_2026-11-01.csv"
    original = bad_day.read_bytes()
    # Too short for China is the phone_invalid rule's business; letters nobody can dial.
    bad_day.write_bytes(original.replace(b"1391234", b"139x1234"))
    good_day = inbox / "orders" / "orders_2026-11-02.csv"
    good_day.write_bytes(original)

    day_with_bad_phone = dg.materialize(
        with_checks(ORDERS), partition_key="2026-11-01", instance=instance
    )
    clean_day = dg.materialize(with_checks(ORDERS), partition_key="2026-11-02", instance=instance)

    warning = evaluations(day_with_bad_phone)["gx_warnings"]
    assert day_with_bad_phone.success
    assert not warning.passed and warning.severity == dg.AssetCheckSeverity.WARN
    (failed,) = warning.metadata["failed"].value
    assert failed["column"] == "receiver_phone"
    assert (failed["unexpected_count"], failed["examples"]) == (1, ["139x1234"])
    assert evaluations(day_with_bad_phone)["gx_contract"].passed
    # The other day's file has the same order ids: a key delivered again is only a warning.
    assert evaluations(clean_day)["gx_contract"].passed
    warned = {f["column"] for f in evaluations(clean_day)["gx_warnings"].metadata["failed"].value}
    assert warned == set()


def test_a_broken_contract_check_blocks_what_comes_downstream(warehouse_path, tmp_path, instance):
    shutil.copytree(FIXTURES / "clean", tmp_path / "inbox")
    with duckdb.connect(str(warehouse_path)) as connection:
        ingest_table("order_lines", connection, tmp_path / "inbox")
        # A write that bypassed ingestion: the contract says quantities are positive.
        connection.execute("update raw.order_lines set quantity = 0 where order_id = 'O1002'")

    @dg.asset(deps=[ORDER_LINES], partitions_def=DAILY_PARTITIONS)
    def order_line_report() -> None:
        """Stands in for the dbt models that read raw.order_lines."""

    result = dg.materialize(
        [*with_checks(ORDER_LINES), order_line_report],
        partition_key="2026-11-01",
        instance=instance,
        raise_on_error=False,
    )

    contract = evaluations(result)["gx_contract"]
    assert not contract.passed and contract.severity == dg.AssetCheckSeverity.ERROR
    (failed,) = contract.metadata["failed"].value
    assert (failed["column"], failed["unexpected_count"]) == ("quantity", 1)
    assert result.asset_materializations_for_node("order_line_report") == []
