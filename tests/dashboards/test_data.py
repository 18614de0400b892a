"""The data module: parameters not string-building, marts only, fresh data after a rewrite."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from app_helpers import assert_no_exception, metrics
from marts_fixture import LAST_COMPLETE_WEEK, build_marts
from streamlit.testing.v1 import AppTest

from dashboards import data
from pipelines.defs.transformation.marts_export import export_marts

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
APP = DASHBOARDS / "streamlit_app.py"
PAGES = (
    "app_pages/weekly_review.py",
    "app_pages/root_causes.py",
    "app_pages/exception_list.py",
    "app_pages/risk_watch.py",
    "app_pages/data_health.py",
)


def test_filter_values_are_parameters_not_sql(marts):
    hostile = data.Filters(LAST_COMPLETE_WEEK, merchants=("M001' or '1'='1",))
    assert data.weekly_kpis(hostile).empty
    page = data.exception_list(
        data.Filters(LAST_COMPLETE_WEEK),
        data.Focus(dimension="carrier", dimension_value="zto' or 1=1 --"),
    )
    assert page.total == 0
    with pytest.raises(ValueError, match="unknown dimension"):
        data.dimension_breakdown(hostile, data.Focus(), "merchant_id; drop table x", ("x",))
    risky = data.RiskScope(merchants=("M001' or '1'='1",))
    assert data.delivery_risk_summary(risky, 0.3)["open_orders"] == 0
    assert data.stockout_risk_skus(risky).empty
    with pytest.raises(ValueError, match="unknown risk dimension"):
        data.expected_late_by(risky, "route; drop table x")


def test_the_dashboard_never_touches_the_warehouse(marts, monkeypatch, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("OEX_WAREHOUSE", str(warehouse))
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    for page in PAGES:
        app.switch_page(page).run()
        assert_no_exception(app)
    assert not warehouse.exists()
    source = "\n".join(path.read_text() for path in DASHBOARDS.rglob("*.py"))
    assert "warehouse_path" not in source and ".duckdb" not in source


def test_pages_keep_working_while_the_marts_are_rewritten(tmp_path, monkeypatch):
    marts = tmp_path / "marts"
    build_marts(marts)
    monkeypatch.setenv("OEX_MARTS", str(marts))
    monkeypatch.delenv("OEX_LANGUAGE", raising=False)
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    before = metrics(app)["订单量"][0]

    stop = threading.Event()
    runs: list[int] = []
    failures: list[BaseException] = []

    def pipeline_runs() -> None:
        try:
            while not stop.is_set():
                build_marts(marts, seed=8 + len(runs) % 2, orders_per_day=45)
                runs.append(1)
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    writer = threading.Thread(target=pipeline_runs, daemon=True)
    writer.start()
    try:
        for _ in range(4):
            for page in PAGES:
                app.switch_page(page).run()
                assert_no_exception(app)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not failures, failures
    assert runs, "no rewrite happened while pages were requested"

    final = build_marts(marts, seed=9, orders_per_day=60)
    orders = pd.read_parquet(final["fct_orders"])
    expected = f"{int((orders['week'] == LAST_COMPLETE_WEEK).sum()):,}"
    app.switch_page(PAGES[0]).run()  # same process, same caches: no restart
    assert_no_exception(app)
    assert metrics(app)["订单量"][0] == expected != before


def test_pages_show_a_newly_published_set_without_a_restart(tmp_path, monkeypatch):
    """The pipeline's way: each build's marts exported from the warehouse as a new folder and
    published by switching `current`; the caches, keyed on the folder, show the new set."""
    marts, warehouse = tmp_path / "marts", tmp_path / "warehouse.duckdb"

    def publish(seed: int, orders_per_day: int) -> str:
        built = build_marts(tmp_path / f"built-{seed}", seed=seed, orders_per_day=orders_per_day)
        with duckdb.connect(str(warehouse)) as connection:
            connection.execute("create schema if not exists marts")
            for name, path in built.items():
                if name != data.ASSET_CHECKS:  # written by check runs, beside the sets
                    connection.execute(
                        f'create or replace table marts."{name}" as select * from read_parquet(?)',
                        [str(path)],
                    )
        export_marts(warehouse, marts)
        shutil.copy(built[data.ASSET_CHECKS], marts / f"{data.ASSET_CHECKS}.parquet")
        orders = pd.read_parquet(built["fct_orders"])
        return f"{int((orders['week'] == LAST_COMPLETE_WEEK).sum()):,}"

    monkeypatch.setenv("OEX_MARTS", str(marts))
    monkeypatch.delenv("OEX_LANGUAGE", raising=False)
    first = publish(seed=7, orders_per_day=30)
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    assert metrics(app)["订单量"][0] == first
    for page in PAGES:
        app.switch_page(page).run()
        assert_no_exception(app)

    second = publish(seed=9, orders_per_day=60)
    app.switch_page(PAGES[0]).run()  # same process, same caches: no restart
    assert_no_exception(app)
    assert metrics(app)["订单量"][0] == second != first
