"""The dbt project as Dagster assets: a real materialisation on the hand-made fixture."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines import marts as mart_files
from pipelines import settings
from pipelines.catalogue import exception_types

sys.path.insert(0, str(settings.PROJECT_ROOT / "tests" / "dbt"))
from raw_fixture import load_raw_fixture

FIXTURE_DIR = settings.PROJECT_ROOT / "tests" / "fixtures" / "dbt"
DBT_PROJECT = settings.PROJECT_ROOT / "dbt_project"


@pytest.fixture
def fixture_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OEX_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("OEX_MARTS", str(tmp_path / "marts"))
    monkeypatch.setenv("OEX_DUCKDB_TEMP", str(tmp_path / "tmp"))
    load_raw_fixture(tmp_path / "warehouse.duckdb", FIXTURE_DIR)
    return tmp_path


def test_a_missing_manifest_says_to_run_make_manifest(dbt_manifest, monkeypatch, tmp_path):
    from pipelines.defs.transformation import assets

    monkeypatch.setattr(assets, "MANIFEST_PATH", tmp_path / "target" / "manifest.json")
    with pytest.raises(assets.ManifestMissingError, match="make manifest"):
        assets.dbt_manifest_path()


def test_a_manifest_older_than_the_project_says_to_run_make_manifest(monkeypatch, tmp_path):
    """After a pull that adds a model, the old manifest would fail the build half-way."""
    from pipelines.defs.transformation import assets

    project = tmp_path / "dbt_project"
    (project / "models" / "staging").mkdir(parents=True)
    (project / "target").mkdir()
    (project / "dbt_project.yml").write_text("name: x\n", "utf-8")
    manifest = project / "target" / "manifest.json"
    manifest.write_text("{}", "utf-8")
    model = project / "models" / "staging" / "stg_new.sql"
    model.write_text("select 1", "utf-8")
    monkeypatch.setattr(assets, "MANIFEST_PATH", manifest)
    os.utime(manifest, (1_000_000_000, 1_000_000_000))
    with pytest.raises(assets.ManifestStaleError, match=r"models/staging/stg_new.sql changed"):
        assets.dbt_manifest_path()
    os.utime(model, (900_000_000, 900_000_000))  # parsed after the last change: fine
    os.utime(project / "dbt_project.yml", (900_000_000, 900_000_000))
    assert assets.dbt_manifest_path() == manifest


def test_sources_line_up_with_the_ingestion_assets(dbt_manifest):
    from pipelines.defs.transformation import defs

    graph = defs.resolve_asset_graph()
    staging_orders = graph.get(dg.AssetKey(["staging", "stg_orders__orders"]))
    assert staging_orders.parent_keys == {dg.AssetKey(["orders", "orders"])}
    union = graph.get(dg.AssetKey(["intermediate", "int_exceptions_unioned"]))
    rule_models = {key for key in union.parent_keys if key.path[-1].startswith("int_exception__")}
    # every rule model of the catalogue, found by its tag
    assert {key.path[-1].removeprefix("int_exception__") for key in rule_models} == set(
        exception_types()
    )
    exported = graph.get(dg.AssetKey("exported_marts"))
    assert dg.AssetKey(["marts", "fct_order_exceptions"]) in exported.parent_keys
    # dbt tests are asset checks
    checks = {key.name for key in graph.asset_check_keys}
    assert any(name.startswith("unique_fct_order_exceptions_exception_id") for name in checks)


def test_materialising_dbt_and_the_export_writes_the_marts(dbt_manifest, fixture_warehouse):
    transformation = importlib.import_module("pipelines.defs.transformation")
    from pipelines.defs.transformation.assets import dbt_resource

    result = dg.materialize(
        [transformation.assets.order_exceptions_dbt, transformation.assets.exported_marts],
        resources={"dbt": dbt_resource()},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed == []
    exported = result.asset_materializations_for_node("exported_marts")[0].metadata
    marts = settings.published_marts_dir(fixture_warehouse / "marts")
    assert exported["published"].value == str(marts)
    mart_models = {path.stem for path in (DBT_PROJECT / "models" / "marts").rglob("*.sql")}
    assert exported["tables"].value == len(mart_models)
    assert {name for name in mart_models if mart_files.exists(marts, name)} == mart_models
    exceptions = mart_files.read(marts, "fct_order_exceptions")
    assert len(exceptions) == 9
    # no temporary file left behind, and one set published
    assert sorted(path.name for path in (fixture_warehouse / "marts").iterdir()) == [
        "builds",
        "current",
    ]


def test_export_takes_over_a_folder_of_loose_files_and_releases_the_warehouse(tmp_path):
    from pipelines.defs.transformation import export_marts

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.fct_orders as select range as order_id, '2026-W45' as week"
            " from range(3)"
        )
        connection.execute("create view marts.not_a_table as select 1 as x")
    marts = tmp_path / "marts"
    marts.mkdir()
    # the layout before published sets: one loose file per mart, here a broken one
    (marts / "fct_orders.parquet").write_bytes(b"old half-written content")

    assert export_marts(warehouse, marts) == {"fct_orders": 3}
    published = settings.published_marts_dir(marts)
    assert mart_files.read(published, "fct_orders").order_id.tolist() == [0, 1, 2]
    assert sorted(path.name for path in published.iterdir()) == ["fct_orders", "partitions.json"]
    # the loose file was the previous set: kept for one more export, like a previous build
    assert sorted(path.name for path in marts.iterdir()) == [
        "builds",
        "current",
        "fct_orders.parquet",
    ]
    # the read-only connection is closed: a writer can open the file again
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("insert into marts.fct_orders values (3, '2026-W45')")

    export_marts(warehouse, marts)
    assert sorted(path.name for path in marts.iterdir()) == ["builds", "current"]
    published = settings.published_marts_dir(marts)
    assert sorted(mart_files.read(published, "fct_orders").order_id) == [0, 1, 2, 3]


def test_each_rule_asset_shows_its_owner_team_and_catalogue_tags(dbt_manifest):
    from pipelines import catalogue
    from pipelines.defs.transformation.assets import order_exceptions_dbt

    specs = {spec.key: spec for spec in order_exceptions_dbt.specs}
    for code, kind in catalogue.exception_types().items():
        spec = specs[dg.AssetKey(["intermediate", f"int_exception__{code}"])]
        assert spec.owners == [f"team:{kind.owner_team}"], code
        assert {key: spec.tags[key] for key in ("family", "kind", "priority")} == {
            "family": kind.family,
            "kind": kind.kind,
            "priority": kind.priority,
        }, code
    # a model that is not a rule has no owner from the catalogue
    assert not specs[dg.AssetKey(["marts", "fct_orders"])].owners
