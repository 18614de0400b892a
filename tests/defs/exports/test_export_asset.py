"""The merchant_reports asset: a weekly partition becomes that ISO week's report files."""

import json

import dagster as dg

from pipelines.defs.exports import defs
from pipelines.defs.exports.assets import merchant_reports, week_of_partition
from pipelines.defs.partitions import WEEKLY_PARTITIONS


def test_weekly_partitions_map_to_iso_weeks() -> None:
    assert week_of_partition("2026-11-09") == "2026-W46"
    assert week_of_partition("2025-12-29") == "2026-W01"
    # Every partition key is a Monday, so it names exactly one ISO week.
    keys = WEEKLY_PARTITIONS.get_partition_keys()[:60]
    assert len({week_of_partition(key) for key in keys}) == len(keys)


def test_materialising_a_week_writes_every_merchants_reports(marts, data_folders) -> None:
    result = dg.materialize([merchant_reports], partition_key="2026-11-09")

    assert result.success
    metadata = result.asset_materializations_for_node("merchant_reports")[0].metadata
    assert metadata["week"].value == "2026-W46"
    assert metadata["merchants"].value == 3
    manifest = json.loads((data_folders["exports"] / "2026-W46" / "manifest.json").read_text())
    assert {entry["merchant_id"] for entry in manifest["files"]} == {"MQX01", "MBH02", "MZK03"}


def test_the_asset_depends_on_the_exported_marts_by_key() -> None:
    spec = defs.resolve_asset_graph().get(dg.AssetKey("merchant_reports"))
    assert dg.AssetKey("exported_marts") in spec.parent_keys
    assert spec.partitions_def == WEEKLY_PARTITIONS
