"""Where things live. Every path is absolute and can be moved by an environment variable.

dbt-duckdb resolves relative paths against the current directory, which differs between a
`dbt` call and a Dagster run, so everything here is made absolute from the project root.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
LOCAL_TIMEZONE = "Asia/Shanghai"


def _path(variable: str, default: Path) -> Path:
    return Path(os.environ.get(variable) or default).resolve()


def data_dir() -> Path:
    return _path("OEX_DATA_DIR", PROJECT_ROOT / "data")


def warehouse_path() -> Path:
    return _path("OEX_WAREHOUSE", data_dir() / "warehouse.duckdb")


def inbox_dir() -> Path:
    return _path("OEX_INBOX", data_dir() / "inbox")


def profiles_dir() -> Path:
    return _path("OEX_PROFILES", data_dir() / "profiles")


def truth_dir() -> Path:
    return _path("OEX_TRUTH", data_dir() / "truth")


def marts_dir() -> Path:
    return _path("OEX_MARTS", data_dir() / "marts")


def exports_dir() -> Path:
    return _path("OEX_EXPORTS", data_dir() / "exports")


def reports_dir() -> Path:
    return _path("OEX_REPORTS", data_dir() / "reports")


def duckdb_temp_dir() -> Path:
    return _path("OEX_DUCKDB_TEMP", data_dir() / "tmp")


def dbt_environment() -> dict[str, str]:
    """Environment for a dbt subprocess: absolute paths and no telemetry."""
    return {
        "OEX_WAREHOUSE": str(warehouse_path()),
        "OEX_DUCKDB_TEMP": str(duckdb_temp_dir()),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
