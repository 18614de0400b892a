"""Settings shared by every test."""

import os
from pathlib import Path

import pytest
from dagster._core.storage.defs_state.base import _current_storage

from pipelines import settings

# No telemetry from any tool a test starts.
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# Definitions imported by a test take their daily partitions from here, not from whatever the
# inbox holds at import time (tests point OEX_INBOX at folders of their own later on). A test
# of the first day's derivation from the inbox runs `oex` without it.
os.environ.setdefault("OEX_FIRST_DAY", "2025-01-01")


@pytest.fixture(autouse=True)
def _forget_closed_dagster_instances():
    """A Dagster instance registers its state storage in a context variable that can outlive
    the instance when a test's instance is closed out of order; the next test that loads
    definitions would then follow a dead reference. Each test starts without one."""
    yield
    _current_storage.set(None)


MANIFEST = settings.DBT_PROJECT_DIR / "target" / "manifest.json"


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """`dbt parse`, as `make manifest` runs it, when no manifest is there yet: the Dagster
    definitions load the dbt project from it."""
    if not MANIFEST.exists():
        settings.parse_dbt_project()
    return MANIFEST


def pytest_collection_modifyitems(items):
    """The long files first (the whole pipeline through `oex`): run side by side they finish
    together, instead of one of them running alone at the end while the other worker idles."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("slow") else 1)
