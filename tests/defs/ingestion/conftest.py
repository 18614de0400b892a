"""Real DuckDB warehouses in tmp_path, fed from the hand-made inbox fixtures."""

import shutil
from pathlib import Path

import duckdb
import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "inbox"


@pytest.fixture
def warehouse(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


@pytest.fixture
def inbox_with(tmp_path):
    """Copy one fixture case (tests/fixtures/inbox/<case>/<domain>/...) into a fresh inbox."""

    def copy(case: str) -> Path:
        inbox = tmp_path / "inbox"
        shutil.copytree(FIXTURES / case, inbox, dirs_exist_ok=True)
        return inbox

    return copy
