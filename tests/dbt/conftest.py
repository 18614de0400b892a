"""One real dbt build of the project on the hand-made fixture, shared by every test here that
reads it (once per pytest worker).

The project is copied to a temporary folder so the fixture's seeds replace the real ones
(the generator owns those) and the build never touches dbt_project/target.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines import marts as mart_files
from pipelines import settings
from pipelines.defs.transformation.marts_export import export_marts

sys.path.insert(0, str(Path(__file__).parent))
from raw_fixture import DBT, FIXTURE_DIR, copy_project, load_raw_fixture


@dataclass
class FixtureBuild:
    warehouse: Path
    marts_dir: Path
    project_dir: Path
    dbt_output: str
    exported: dict[str, int]
    run_results: dict  # the build's target/run_results.json (later dbt calls overwrite it)

    def mart(self, name: str) -> pd.DataFrame:
        return mart_files.read(settings.published_marts_dir(self.marts_dir), name)

    def query(self, sql: str) -> pd.DataFrame:
        connection = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return connection.execute(sql).df()
        finally:
            connection.close()


@pytest.fixture(scope="session")
def fixture_build(tmp_path_factory: pytest.TempPathFactory) -> FixtureBuild:
    root = tmp_path_factory.mktemp("dbt_fixture")
    project = copy_project(root)
    warehouse = root / "warehouse.duckdb"
    marts_dir = root / "marts"
    load_raw_fixture(warehouse, FIXTURE_DIR)
    environment = os.environ | {
        "OEX_WAREHOUSE": str(warehouse),
        "OEX_MARTS": str(marts_dir),
        "OEX_DUCKDB_TEMP": str(root / "tmp"),
        "DBT_PROFILES_DIR": str(project),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    completed = subprocess.run(
        [str(DBT), "build", "--project-dir", str(project), "--profiles-dir", str(project)],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    exported = export_marts(warehouse, marts_dir) if completed.returncode == 0 else {}
    results_file = project / "target" / "run_results.json"
    run_results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    return FixtureBuild(
        warehouse, marts_dir, project, completed.stdout + completed.stderr, exported, run_results
    )
