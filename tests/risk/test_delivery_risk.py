"""Late-delivery risk: what it learned, that it only uses what was known, and how it serves."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipelines import marts as mart_files
from pipelines.risk import delivery, model_store

pytestmark = pytest.mark.slow


def connect(data_dir: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)


def run_as_of(connection: duckdb.DuckDBPyConnection):
    return connection.execute("select as_of from intermediate.int_run_as_of").fetchone()[0]


@pytest.fixture(scope="module")
def replay(risk_sample: Path) -> dict:
    with connect(risk_sample) as connection:
        return delivery.backtest(connection)


def test_the_risk_pages_track_record_reads_what_the_replay_writes(replay: dict):
    from dashboards.data import LATE_RECORD_KEYS

    assert set(LATE_RECORD_KEYS) <= set(replay)
    for side in ("model", "baseline"):
        assert {"roc_auc", "precision_at_top_5pct"} <= set(replay[side])


def test_the_model_ranks_late_orders_well_above_chance_and_the_route_table(replay: dict):
    model, baseline = replay["model"], replay["baseline"]
    assert replay["late_orders"] >= 30, replay  # enough late orders to judge by
    # a model that learned nothing ranks at 0.5 and finds late orders at their base rate
    assert model["roc_auc"] >= 0.75
    assert model["roc_auc"] > baseline["roc_auc"] + 0.05
    assert model["precision_at_top_5pct"] >= 4 * replay["late_share"]
    assert model["brier"] < baseline["brier"]


def test_its_probabilities_add_up_to_the_late_orders_that_came(replay: dict):
    assert replay["model"]["calibration_error"] <= 0.05
    # calibration in the large: a model that says 1% when 3% go late fails here
    assert 0.6 * replay["actual_late"] <= replay["expected_late"] <= 1.5 * replay["actual_late"]


def test_late_orders_are_flagged_a_day_or_more_before_they_turn_late(replay: dict):
    assert replay["flagged_before"] >= 0.5 * replay["late_orders"]
    assert replay["median_lead_time_hours"] >= 12


def test_the_replay_fetched_in_small_batches_measures_the_same(
    risk_sample: Path, replay: dict, monkeypatch: pytest.MonkeyPatch
):
    """The replay takes the open orders a batch at a time (a week of them at 10M orders does
    not fit in memory at once): batches of 2,048 rows give the figures of one batch."""
    monkeypatch.setattr(delivery, "BATCH_VECTORS", 1)
    assert replay["open_order_moments"] > 4 * 2_048  # so it runs in many batches below
    with connect(risk_sample) as connection:
        batched = delivery.backtest(connection)
    assert batched.keys() == replay.keys()
    for key, value in replay.items():
        assert batched[key] == (value if isinstance(value, str | list) else approx(value)), key


def approx(value):
    """Two fits of the same data agree to the last digits only (threads add in any order)."""
    return pytest.approx(value, rel=1e-9, abs=1e-12)


def test_scores_of_a_moment_do_not_change_when_later_days_are_loaded(
    risk_sample: Path, risk_sample_earlier: Path
):
    with connect(risk_sample_earlier) as connection:
        as_of = run_as_of(connection)
        earlier = delivery.risk_table(connection, delivery.train(connection, as_of), as_of)
    with connect(risk_sample) as connection:
        assert run_as_of(connection) > as_of + pd.Timedelta(days=4)
        later = delivery.risk_table(connection, delivery.train(connection, as_of), as_of)

    assert len(earlier) > 200
    pd.testing.assert_frame_equal(earlier, later)


def test_the_risk_mart_lists_the_open_orders_not_yet_late(risk_sample: Path):
    marts = risk_sample / "marts" / "current"
    risk = pd.read_parquet(marts / "rpt_delivery_risk.parquet")
    orders = mart_files.read(marts, "fct_orders").set_index("order_id")
    exceptions = mart_files.read(marts, "fct_order_exceptions")
    with connect(risk_sample) as connection:
        as_of = run_as_of(connection)

    assert len(risk) > 100
    assert (risk.features_as_of == as_of).all()
    assert risk.model_version.str.startswith("hgb-").all()
    assert risk.late_probability.is_monotonic_decreasing
    assert risk.late_probability.between(0, 1).all()
    statuses = orders.loc[risk.order_id, "order_status"]
    assert not statuses.isin(["delivered", "cancelled"]).any(), statuses.value_counts()
    late = exceptions[exceptions.exception_type.isin(delivery.LATE_TYPES)]
    assert not risk.order_id.isin(late.order_id).any()
    # what each order is heading for follows where it is, and names the team that acts
    in_transit = risk.stage == "in_transit"
    assert (risk.risk_type[in_transit] == "delivery_overdue").all()
    assert (risk.risk_type[~in_transit] == "late_handoff").all()
    assert set(risk.owner_team) <= {"warehouse", "customer_service"}


@pytest.fixture
def own_copy(risk_sample: Path, tmp_path: Path, monkeypatch) -> Path:
    """A copy of the sample's warehouse and an empty model store, for tests that write."""
    shutil.copy2(risk_sample / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("OEX_DATA_DIR", str(tmp_path))
    # the Makefile exports these for the repository's own data folder
    monkeypatch.setenv("OEX_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("OEX_DUCKDB_TEMP", str(tmp_path / "tmp"))
    monkeypatch.setenv("OEX_MODELS", str(tmp_path / "models"))
    return tmp_path


def materialize(*assets) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(assets), instance=dg.DagsterInstance.ephemeral(), raise_on_error=True
    )


def test_the_weekly_replay_writes_the_track_record_the_risk_page_reads(
    own_copy: Path, replay: dict
):
    import json

    from pipelines.defs.risk.assets import risk_track_record

    result = materialize(risk_track_record)
    report = json.loads((own_copy / "reports" / "risk.json").read_text(encoding="utf-8"))
    # the same replay `oex evaluate` writes, on the same warehouse (to the last float's rounding)
    assert report["late_delivery"]["model"] == pytest.approx(replay["model"], rel=1e-9)
    assert report["stock_out"]["flagged"] > 0
    (materialization,) = result.asset_materializations_for_node("risk_track_record")
    metadata = {key: value.value for key, value in materialization.metadata.items()}
    assert metadata["late_model_roc_auc"] == pytest.approx(replay["model"]["roc_auc"], rel=1e-9)
    assert metadata["stockout_precision"] == report["stock_out"]["precision"]


def test_a_model_worse_than_the_baseline_fails_its_check_and_the_previous_one_serves(
    own_copy: Path, monkeypatch
):
    from pipelines.defs.risk.assets import delivery_risk_model, rpt_delivery_risk

    first = materialize(delivery_risk_model)
    (check,) = first.get_asset_check_evaluations()
    assert check.passed
    serving = model_store.serving_version("delivery_risk")
    assert serving is not None

    # a retraining gone wrong: trees that may not split learn nothing (every order the same)
    monkeypatch.setattr(
        delivery, "MODEL_PARAMETERS", {**delivery.MODEL_PARAMETERS, "min_samples_leaf": 10**9}
    )
    second = materialize(delivery_risk_model)
    (check,) = second.get_asset_check_evaluations()
    assert not check.passed
    assert model_store.serving_version("delivery_risk") == serving
    assert len(list((own_copy / "models" / "delivery_risk").glob("*.pkl"))) == 2

    materialize(rpt_delivery_risk)
    with duckdb.connect(str(own_copy / "warehouse.duckdb"), read_only=True) as connection:
        versions = connection.execute(
            "select distinct model_version from marts.rpt_delivery_risk"
        ).fetchall()
    assert versions == [(serving,)]


def test_a_build_on_spark_says_the_risk_is_not_scored_and_leaves_the_marts_alone(
    own_copy: Path, monkeypatch
):
    from pipelines.defs.risk.assets import rpt_delivery_risk, rpt_stockout_risk

    def risk_rows() -> int:
        with duckdb.connect(str(own_copy / "warehouse.duckdb"), read_only=True) as connection:
            return connection.execute("select count(*) from marts.rpt_delivery_risk").fetchone()[0]

    before = risk_rows()
    monkeypatch.setenv("OEX_ENGINE", "spark")
    result = materialize(rpt_delivery_risk, rpt_stockout_risk)
    notes = [event.materialization.metadata for event in result.get_asset_materialization_events()]
    assert len(notes) == 2
    assert all("this build ran on Spark" in note["not_scored"].value for note in notes)
    assert before > 0 and risk_rows() == before  # the sample's own risk mart, untouched


def test_the_stockout_asset_writes_its_mart_and_says_how_many_may_run_out(own_copy: Path):
    from pipelines.defs.risk.assets import rpt_stockout_risk
    from pipelines.risk import stockout

    result = materialize(rpt_stockout_risk)
    (event,) = result.get_asset_materialization_events()
    note = {key: value.value for key, value in event.materialization.metadata.items()}
    with connect(own_copy) as connection:
        mart = connection.execute("select * from marts.rpt_stockout_risk").df()
    assert note["sku_warehouses"] == len(mart) > 0
    assert note["at_risk"] == int(mart.is_at_risk.sum()) > 0
    assert note["expected_stockouts"] == pytest.approx(mart.stockout_probability.sum())
    assert note["model_version"] == stockout.MODEL_VERSION
    # a probability, and the flagged ones are the likely ones
    assert mart.stockout_probability.between(0, 1).all()
    assert (mart.stockout_probability[mart.is_at_risk] >= stockout.FLAG_PROBABILITY).all()
