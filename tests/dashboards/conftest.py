"""Fixture marts for the dashboard tests, and an AppTest pointed at them.

The app reads only what OEX_MARTS points to, so each test sees exactly the marts built here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from app_helpers import APP, assert_no_exception
from marts_fixture import build_marts
from streamlit.testing.v1 import AppTest

PAGES = {
    "weekly_review": "app_pages/weekly_review.py",
    "root_causes": "app_pages/root_causes.py",
    "exception_list": "app_pages/exception_list.py",
    "data_health": "app_pages/data_health.py",
    "risk_watch": "app_pages/risk_watch.py",
}


@pytest.fixture(scope="session")
def marts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("marts")
    build_marts(directory)
    return directory


@pytest.fixture
def marts(marts_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OEX_MARTS", str(marts_dir))
    monkeypatch.delenv("OEX_LANGUAGE", raising=False)
    return marts_dir


@pytest.fixture(autouse=True)
def reports_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own reports folder, empty: the risk page's track record shows only what a
    test writes there, not a replay left in data/reports by `oex evaluate`."""
    folder = tmp_path / "reports"
    monkeypatch.setenv("OEX_REPORTS", str(folder))
    return folder


@pytest.fixture
def read_mart(marts_dir: Path):
    """A mart as pandas, read independently of the dashboard's data module."""

    def read(name: str) -> pd.DataFrame:
        return pd.read_parquet(marts_dir / f"{name}.parquet")

    return read


@pytest.fixture
def open_page(marts: Path):
    """Run the app and switch to a page; fails the test on any exception shown."""

    def open_(page: str, **state) -> AppTest:
        app = AppTest.from_file(str(APP), default_timeout=60)
        for key, value in state.items():
            app.session_state[key] = value
        app.run()
        app.switch_page(PAGES[page]).run()
        assert_no_exception(app)
        return app

    return open_
