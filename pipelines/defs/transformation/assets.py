"""The dbt project as Dagster assets, and the export of the marts the readers use.

The manifest is prepared by `make manifest` (dbt parse), never at import: parsing takes
seconds and needs a writable project folder, which a code server must not assume.
"""

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets, get_asset_key_for_model

from pipelines import catalogue, settings
from pipelines.defs.partitions import SPARK_POOL, WAREHOUSE_POOL
from pipelines.defs.transformation.marts_export import export_marts, export_spark_marts
from pipelines.defs.transformation.raw_parquet import export_raw_tables

MANIFEST_PATH = settings.DBT_PROJECT_DIR / "target" / "manifest.json"
MARTS_FOLDER = "marts"
RISK_MARTS = (dg.AssetKey("rpt_delivery_risk"), dg.AssetKey("rpt_stockout_risk"))
# The engine dbt builds on (OEX_ENGINE), read once when the definitions load. DuckDB allows one
# writing process, so its steps share the warehouse pool; on Spark the dbt build and the marts
# export take the Spark pool instead (one build of the Spark tables at a time), and only the
# steps that read or write the DuckDB file (ingestion, checks, the raw Parquet copy) wait for
# the warehouse.
ON_SPARK = settings.is_spark()
BUILD_POOL = SPARK_POOL if ON_SPARK else WAREHOUSE_POOL
LAKE_GROUP = "lake"


def raw_parquet_key(table: str) -> dg.AssetKey:
    """The Parquet copy of raw.<table> (the raw_parquet asset), a dbt source on Spark."""
    return dg.AssetKey([LAKE_GROUP, "raw", table])


class ManifestMissingError(FileNotFoundError):
    """The dbt manifest has not been prepared."""


class ManifestStaleError(ManifestMissingError):
    """The dbt project changed after the manifest was parsed."""


# What `dbt parse` reads: a file here newer than the manifest means the manifest is stale.
PROJECT_FILE = "dbt_project.yml"
PROJECT_FOLDERS = ("models", "macros", "seeds", "tests")


def dbt_manifest_path() -> Path:
    """The manifest.json `dbt parse` wrote; a clear error when it is missing, or older than
    the project (after a `git pull` or an edit: a model it does not know would otherwise fail
    the build half-way with a KeyError)."""
    if not MANIFEST_PATH.exists():
        raise ManifestMissingError(
            f"The dbt manifest {MANIFEST_PATH} does not exist. Run `make manifest` "
            "(it runs `dbt parse` in dbt_project/) before loading the Dagster definitions."
        )
    changed = newest_project_source(MANIFEST_PATH.parent.parent)
    if changed is not None and changed.stat().st_mtime > MANIFEST_PATH.stat().st_mtime:
        raise ManifestStaleError(
            f"The dbt manifest {MANIFEST_PATH} is older than the dbt project "
            f"({changed.relative_to(MANIFEST_PATH.parent.parent)} changed since). Run "
            "`make manifest` (it runs `dbt parse` in dbt_project/) before loading the Dagster "
            "definitions."
        )
    return MANIFEST_PATH


def newest_project_source(project_dir: Path) -> Path | None:
    """The most recently modified file `dbt parse` reads."""
    files = [project_dir / PROJECT_FILE]
    for folder in PROJECT_FOLDERS:
        files += (project_dir / folder).rglob("*")
    files = [path for path in files if path.is_file()]
    return max(files, key=lambda path: path.stat().st_mtime, default=None)


def mart_model_names(manifest_path: Path) -> list[str]:
    """Every model under models/marts/: the tables export_marts writes to parquet."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1:2] == [MARTS_FOLDER]
    )


class LayerTranslator(DagsterDbtTranslator):
    """Groups dbt assets by layer (staging, intermediate, marts, reference seeds); an exception
    rule carries its catalogue row: the owner team as its Dagster owner, family, kind and
    priority as tags."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        # on Spark the sources are the Parquet copy of raw, not the tables ingestion writes
        if ON_SPARK and dbt_resource_props["resource_type"] == "source":
            return raw_parquet_key(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else None

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        rule = _rule_of(dbt_resource_props)
        if rule is None:
            return super().get_owners(dbt_resource_props)
        return [f"team:{rule.owner_team}"]

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        tags = dict(super().get_tags(dbt_resource_props))
        rule = _rule_of(dbt_resource_props)
        if rule is not None:
            tags |= {"family": rule.family, "kind": rule.kind, "priority": rule.priority}
        return tags


def _rule_of(dbt_resource_props: Mapping[str, Any]) -> catalogue.ExceptionType | None:
    """The catalogue row of an exception rule model, None for any other node."""
    name = dbt_resource_props.get("name", "")
    if "exception_rule" not in dbt_resource_props.get("tags", []):
        return None
    return catalogue.exception_types().get(name.removeprefix("int_exception__"))


@contextmanager
def dbt_environment() -> Iterator[None]:
    """The dbt subprocess inherits os.environ: give it absolute paths for this call only."""
    saved = {key: os.environ.get(key) for key in settings.dbt_environment()}
    os.environ.update(settings.dbt_environment())
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def dbt_resource() -> DbtCliResource:
    project_dir = str(settings.DBT_PROJECT_DIR)
    return DbtCliResource(
        project_dir=project_dir, profiles_dir=project_dir, dbt_executable=settings.dbt_executable()
    )


class DbtBuildConfig(dg.Config):
    """How the dbt build runs: incremental (the default) or a full refresh."""

    # rebuild every incremental model from scratch (dbt build --full-refresh)
    full_refresh: bool = False


# Unit tests check the SQL of a model on fixed inputs, not the data of a run: `make test`
# runs them (tests/dbt), a production build skips them, as dbt advises.
PRODUCTION_BUILD = ["build", "--exclude-resource-type", "unit_test"]


def dbt_build_args(config: DbtBuildConfig) -> list[str]:
    """The dbt command line: incremental models rebuild only the orders a run touches, unless
    a full refresh is asked for (after changing a rule, its catalogue row or its thresholds)."""
    return [*PRODUCTION_BUILD, "--full-refresh"] if config.full_refresh else [*PRODUCTION_BUILD]


@dbt_assets(
    manifest=dbt_manifest_path(),
    dagster_dbt_translator=LayerTranslator(),
    pool=BUILD_POOL,
)
def order_exceptions_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
):
    """dbt build: staging, the exception rules, handling and recurrence, the marts (the fact
    chain incremental by order); dbt tests run as asset checks."""
    settings.duckdb_temp_dir().mkdir(parents=True, exist_ok=True)
    if ON_SPARK:
        settings.spark_metastore_dir().parent.mkdir(parents=True, exist_ok=True)
    with dbt_environment():
        yield from dbt.cli(dbt_build_args(config), context=context).stream()


@dg.asset(
    deps=[
        *(
            get_asset_key_for_model([order_exceptions_dbt], name)
            for name in mart_model_names(dbt_manifest_path())
        ),
        # the risk marts, scored by Python assets (pipelines/defs/risk) into the same schema;
        # they read and write the DuckDB warehouse, so a build on Spark does not wait for them
        # (its export publishes the marts dbt built on Spark)
        *([] if ON_SPARK else RISK_MARTS),
    ],
    pool=BUILD_POOL,
    kinds={"parquet"},
    group_name=MARTS_FOLDER,
)
def exported_marts() -> dg.MaterializeResult:
    """Every marts table written as one set to data/marts/builds/<build>/ and published whole
    by switching data/marts/current to it; the dashboard and the merchant reports read it
    instead of the warehouse. On Spark the same files, from the Spark marts tables."""
    if ON_SPARK:
        rows = export_spark_marts(settings.spark_warehouse_dir(), settings.marts_dir())
    else:
        rows = export_marts(settings.warehouse_path(), settings.marts_dir())
    return dg.MaterializeResult(
        metadata={
            "marts_dir": dg.MetadataValue.path(str(settings.marts_dir())),
            "published": dg.MetadataValue.path(str(settings.published_marts_dir())),
            "tables": len(rows),
            "rows": sum(rows.values()),
            "rows_per_table": dg.MetadataValue.json(rows),
        }
    )


def _raw_parquet_specs(manifest_path: Path) -> list[dg.AssetSpec]:
    """One asset per dbt source: its Parquet copy, after the ingestion asset of its table (the
    bookkeeping tables, which every ingestion writes, after them all)."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    sources = sorted((node["source_name"], node["name"]) for node in manifest["sources"].values())
    ingested = [dg.AssetKey([domain, table]) for domain, table in sources if domain != "ingestion"]
    return [
        dg.AssetSpec(
            raw_parquet_key(table),
            deps=ingested if domain == "ingestion" else [dg.AssetKey([domain, table])],
            group_name=LAKE_GROUP,
            kinds={"parquet"},
            description=f"raw.{table} as Parquet files, the dbt source on Spark.",
        )
        for domain, table in sources
    ]


@dg.multi_asset(specs=_raw_parquet_specs(dbt_manifest_path()), pool=WAREHOUSE_POOL)
def raw_parquet() -> Iterator[dg.MaterializeResult]:
    """The raw tables copied as Parquet files to <OEX_LAKE>/raw/<table>/, which the dbt build on
    Spark reads (OEX_ENGINE=spark): a table's rows by the day they were ingested, and only
    the days that changed since the last copy rewritten."""
    exports = export_raw_tables(settings.warehouse_path(), settings.raw_parquet_dir())
    for table, export in exports.items():
        yield dg.MaterializeResult(
            asset_key=raw_parquet_key(table),
            metadata={
                "rows": export.rows,
                "files_written": dg.MetadataValue.json(export.files_written),
                "files_removed": dg.MetadataValue.json(export.files_removed),
                "path": dg.MetadataValue.path(str(settings.raw_parquet_dir() / table)),
            },
        )
