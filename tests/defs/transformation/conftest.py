"""Setup for the transformation tests: the dbt manifest (as `make manifest` prepares it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import settings

DBT = Path(sys.executable).parent / "dbt"
MANIFEST = settings.DBT_PROJECT_DIR / "target" / "manifest.json"


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """`dbt parse`, as `make manifest` runs it, when no manifest is there yet."""
    if not MANIFEST.exists():
        environment = os.environ | settings.dbt_environment()
        subprocess.run(
            [str(DBT), "parse", "--quiet"],
            cwd=settings.DBT_PROJECT_DIR,
            env=environment,
            check=True,
        )
    return MANIFEST
