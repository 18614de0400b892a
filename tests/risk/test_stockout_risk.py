"""Stock-out risk on a generated sample built through `oex`: the mart's columns, the seed's
lead times, the open purchase orders the counts carry (and the inference from the counts when
an export carries none), a replay that beats flagging everything or nothing, and no look into
the future.

The samples are the session's risk warehouses (tests/risk/conftest.py): ten weeks of orders,
and the same sample built from the files of all but its last five days.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines import catalogue, settings
from pipelines.risk import ceiling, evaluation, stockout

pytestmark = pytest.mark.slow

HISTORY_BEFORE_SCORING = timedelta(days=28)


def _connect(data_dir: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)


def _last_day(data_dir: Path) -> date:
    manifest = json.loads((data_dir / "truth" / "manifest.json").read_text(encoding="utf-8"))
    return date.fromisoformat(manifest["parameters"]["end_date"])


def _local(day: date, clock: time) -> datetime:
    """A moment of the reporting time zone, as the risk takes it (UTC)."""
    zone = ZoneInfo(settings.reporting_timezone())
    return stockout.utc_moment(datetime.combine(day, clock, zone))


@pytest.fixture(scope="module")
def warehouse(risk_sample):
    connection = _connect(risk_sample)
    yield connection
    connection.close()


def _scored_days(connection) -> list[date]:
    """Every day with four weeks of history behind it and its seven days of outcome ahead."""
    first, last = connection.execute(
        "select min(snapshot_date), max(snapshot_date) from staging.stg_stock__stock_snapshots"
    ).fetchone()
    start = first + HISTORY_BEFORE_SCORING
    end = last - timedelta(days=stockout.HORIZON_DAYS)
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


@pytest.fixture(scope="module")
def replay(warehouse) -> dict:
    return stockout.backtest_stockout(warehouse, _scored_days(warehouse))


@pytest.fixture(scope="module")
def end(risk_sample) -> date:
    return _last_day(risk_sample)


@pytest.fixture(scope="module")
def latest(warehouse, end) -> pd.DataFrame:
    """The risk at 18:00 on the last day."""
    return stockout.stockout_risk(warehouse, _local(end, time(18)))


def test_every_item_counted_has_one_row_with_the_mart_columns(warehouse, latest, end):
    assert list(latest.columns) == stockout.COLUMNS
    (items,) = warehouse.execute(
        "select count(distinct (warehouse_id, sku)) from staging.stg_stock__stock_snapshots "
        "where snapshot_date <= ?",
        [end],
    ).fetchone()
    assert len(latest) == items == len(latest.drop_duplicates(["warehouse_id", "sku"]))
    assert latest.merchant_id.notna().all() and latest.merchant_name.notna().all()
    assert (latest.model_version == stockout.MODEL_VERSION).all()
    # the generated counts carry what is on order: the replenishment is read from it
    assert (latest.replenishment_basis == "purchase_orders").all()
    assert latest.in_transit_qty.notna().all() and (latest.in_transit_qty > 0).any()
    assert (latest.expected_replenishment_date >= end).all()
    assert (latest.features_as_of == pd.Timestamp(_local(end, time(18)))).all()
    out_of_stock = catalogue.exception_types()["out_of_stock"]
    assert set(latest.owner_team) == {out_of_stock.owner_team}
    assert set(latest.suggested_action_zh) == {out_of_stock.actions["zh-CN"]}
    assert set(latest.suggested_action_en) == {out_of_stock.actions["en"]}


def test_at_risk_items_come_first_and_run_out_within_the_horizon(latest):
    at_risk = latest[latest.is_at_risk]
    assert len(at_risk) > 0
    assert latest.is_at_risk.iloc[: len(at_risk)].all()
    assert (at_risk.days_of_cover <= stockout.HORIZON_DAYS).all()
    assert (at_risk.expected_impact > 0).all()
    assert (at_risk.expected_stockout_date.notna()).all()
    # far from running out: never at risk
    assert not latest.is_at_risk[latest.days_of_cover > stockout.HORIZON_DAYS].any()
    assert not latest.is_at_risk[latest.forecast_daily_demand == 0].any()


def test_lead_times_are_the_warehouse_default_unless_the_sku_has_its_own(warehouse, latest):
    seed = warehouse.execute(
        "select warehouse_id, nullif(sku, '') as sku, lead_time_days "
        "from reference.replenishment_lead_times"
    ).df()
    defaults = dict(seed[seed.sku.isna()][["warehouse_id", "lead_time_days"]].values.tolist())
    own = {(row.warehouse_id, row.sku): row.lead_time_days for row in seed.dropna().itertuples()}
    expected = [
        own.get((row.warehouse_id, row.sku), defaults[row.warehouse_id])
        for row in latest.itertuples()
    ]
    assert latest.lead_time_days.tolist() == expected
    assert own, "the seed has SKU rows"
    scored = set(zip(latest.warehouse_id, latest.sku, strict=True))
    overridden = [key for key in own if key in scored]
    assert overridden, "at least one SKU of the seed is in the sample"
    assert any(own[key] != defaults[key[0]] for key in overridden)


def test_an_item_on_order_waits_for_its_planned_day_and_one_with_nothing_for_a_lead_time(
    warehouse, latest, end
):
    counts = warehouse.execute(
        "select warehouse_id, sku, in_transit_qty, expected_arrival_date "
        "from staging.stg_stock__stock_snapshots where snapshot_date = ?",
        [end],
    ).df()
    rows = latest.merge(counts, on=["warehouse_id", "sku"], suffixes=("", "_counted"))
    planned = pd.to_datetime(rows.expected_arrival_date)
    expected = pd.to_datetime(rows.expected_replenishment_date)
    on_order = (rows.in_transit_qty > 0) & (planned >= pd.Timestamp(end))
    assert on_order.any()
    # on its planned day or after it (orders come late on average), never before
    assert (expected[on_order] >= planned[on_order]).all()
    nothing = rows.in_transit_qty == 0
    lead = pd.to_timedelta(rows.lead_time_days[nothing], unit="D")
    assert (expected[nothing] >= pd.Timestamp(end) + lead).all()


def _in_memory_copy(warehouse, snapshots_select: str = "*") -> duckdb.DuckDBPyConnection:
    """The tables the risk reads, copied into memory; the stock counts as `snapshots_select`
    reads them (an export that shows them otherwise)."""
    copy = duckdb.connect()
    for name, qualified in stockout.find_tables(warehouse).items():
        copy.execute(f"create schema if not exists {qualified.split('.')[0]}")
        copy.register("rows", warehouse.sql(f"select * from {qualified}").to_arrow_table())
        select = snapshots_select if name == "stg_stock__stock_snapshots" else "*"
        copy.execute(f"create table {qualified} as select {select} from rows")
        copy.unregister("rows")
    return copy


@pytest.fixture(scope="module")
def without_purchase_orders(warehouse) -> duckdb.DuckDBPyConnection:
    """The sample as an export without in_transit_qty and expected_arrival_date shows it:
    those two columns empty."""
    copy = _in_memory_copy(
        warehouse,
        "* replace (null::integer as in_transit_qty, null::date as expected_arrival_date)",
    )
    yield copy
    copy.close()


def test_an_export_without_purchase_orders_still_scores_and_says_so(
    without_purchase_orders, latest, end
):
    moment = _local(end, time(18))
    inferred = stockout.stockout_risk(without_purchase_orders, moment)
    assert len(inferred) == len(latest)
    assert (inferred.replenishment_basis == "inferred_from_counts").all()
    assert inferred.in_transit_qty.isna().all()
    assert inferred.is_at_risk.any()
    # the same demand and cover; only the replenishment's date is guessed
    pd.testing.assert_series_equal(
        inferred.days_of_cover.sort_values(ignore_index=True),
        latest.days_of_cover.sort_values(ignore_index=True),
    )


def test_a_placeholder_stock_of_a_billion_scores_without_a_date_and_not_at_risk(
    warehouse, latest, end
):
    """Some platforms write 999999999 for "unlimited" (virtual goods, made to order): the
    item is far from running out, and its stock-out date is beyond any calendar."""
    unlimited = latest.sort_values("forecast_daily_demand").iloc[-1]
    with _in_memory_copy(warehouse) as copy:
        copy.execute(
            "update staging.stg_stock__stock_snapshots set available = 999999999"
            " where warehouse_id = ? and sku = ?",
            [unlimited.warehouse_id, unlimited.sku],
        )
        scored = stockout.stockout_risk(copy, _local(end, time(18))).set_index(stockout.ITEM)
    row = scored.loc[(unlimited.warehouse_id, unlimited.sku)]
    assert row.expected_stockout_date is None and not row.is_at_risk
    assert row.stockout_probability == 0.0 and row.days_of_cover > 10_000
    assert len(scored) == len(latest)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Sao_Paulo"])
def test_a_review_in_another_time_zone_flags_the_same_items_at_the_same_moment(
    warehouse, end, zone, monkeypatch
):
    """A team reviewing a Shanghai warehouse from Berlin or São Paulo (OEX_TIMEZONE) sees the
    same stock at the same moment: its local days cut the history at other hours, but the
    items at risk and the chances they run out stay those of the warehouse's own day."""
    moment = _local(end - timedelta(days=7), time(0))  # 00:00 in Shanghai, a week before the end
    at_home = stockout.stockout_risk(warehouse, moment).set_index(stockout.ITEM)
    monkeypatch.setenv("OEX_TIMEZONE", zone)
    abroad = stockout.stockout_risk(warehouse, moment).set_index(stockout.ITEM)
    assert (abroad.features_as_of == pd.Timestamp(moment)).all()
    assert abroad.index.sort_values().equals(at_home.index.sort_values())
    flagged_home = set(at_home.index[at_home.is_at_risk])
    flagged_abroad = set(abroad.index[abroad.is_at_risk])
    assert len(flagged_home) >= 3
    assert len(flagged_home & flagged_abroad) >= 0.7 * len(flagged_home | flagged_abroad)
    expected_home = at_home.stockout_probability.sum()
    assert abroad.stockout_probability.sum() == pytest.approx(expected_home, rel=0.2)


def test_without_purchase_orders_the_replay_still_beats_flagging_all_or_none(
    without_purchase_orders,
):
    replay = stockout.backtest_stockout(
        without_purchase_orders, _scored_days(without_purchase_orders)[-14:]
    )
    assert replay["precision"] >= max(0.3, 20 * replay["base_rate"]), replay
    assert replay["recall"] >= 0.4, replay


def test_the_replay_finds_most_stockouts_a_day_ahead_and_beats_flagging_all_or_none(replay):
    assert replay["went_out"] >= 20 and replay["run_outs"] >= 5, replay
    # "flag every item" has the base rate as precision; "flag none" has recall 0
    assert replay["precision"] >= max(0.35, 20 * replay["base_rate"]), replay
    assert replay["recall"] >= 0.5, replay
    assert replay["median_lead_time_hours"] >= 24, replay
    assert replay["run_outs_flagged_before"] >= replay["run_outs"] / 2, replay


def test_the_stockout_probabilities_add_up_to_about_the_items_that_ran_out(replay):
    # calibration in the large: a probability that said 10% where a third ran out fails here
    assert 0.6 * replay["went_out"] <= replay["expected_went_out"] <= 1.5 * replay["went_out"]
    assert replay["mean_probability_flagged"] >= stockout.FLAG_PROBABILITY


def test_the_risk_pages_track_record_reads_what_the_replay_writes(replay):
    from dashboards.data import STOCKOUT_RECORD_KEYS

    assert set(STOCKOUT_RECORD_KEYS) <= set(replay)


def test_the_frontier_at_the_flag_threshold_is_the_replay_itself(replay):
    at_flag = replay["frontier"][f"{stockout.FLAG_PROBABILITY:g}"]
    assert at_flag["flagged"] == replay["flagged"]
    assert (at_flag["precision"], at_flag["recall"]) == (replay["precision"], replay["recall"])
    # a higher threshold flags fewer and finds fewer
    points = list(replay["frontier"].values())
    assert [point["flagged"] for point in points] == sorted(
        (point["flagged"] for point in points), reverse=True
    )


def test_the_printed_summary_names_what_each_threshold_trades(replay):
    report = {"late_delivery": {"not_enough_history": "too short"}, "stock_out": replay}
    summary = evaluation.format_summary(report)
    for threshold in stockout.FRONTIER:
        point = replay["frontier"][f"{threshold:g}"]
        assert f"{threshold:.0%} {point['precision']:.3f} / {point['recall']:.3f}" in summary


def test_the_ceiling_replays_the_same_days_knowing_the_true_demand_and_arrivals(
    warehouse, risk_sample
):
    """`oex evaluate --ceiling`: what the generator's plan and actual arrivals would let the
    same scoring reach. Knowing the demand finds more of the run-outs, knowing the arrivals
    makes fewer false alarms: if the truth did not reach the scoring, neither would move."""
    report = ceiling.replay_ceiling(warehouse, risk_sample / "truth")
    scores, demand = report["as it scores"], report["knowing the true demand"]
    arrivals, both = report["knowing each arrival"], report["knowing both"]
    assert {replay["went_out"] for replay in report.values()} == {scores["went_out"]}
    assert demand["recall"] >= scores["recall"] + 0.1, report
    assert arrivals["precision"] >= scores["precision"] + 0.03, report
    assert both["recall"] >= 0.8, report


def test_the_ceiling_says_which_truth_files_it_needs(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"demand\.parquet, replenishments\.parquet"):
        ceiling.read_foresight(tmp_path)


def test_the_replay_scores_days_from_their_00_00_local(warehouse, replay):
    days = _scored_days(warehouse)
    assert replay["as_of_days"] == len(days)
    assert replay["last_as_of"] == _local(days[-1], time()).isoformat(sep=" ")


@pytest.mark.parametrize("clock", [time(0, 0), time(13, 30)])
def test_scores_of_a_moment_do_not_change_when_later_days_are_loaded(
    risk_sample, risk_sample_earlier, clock
):
    """The earlier warehouse ends five days before the full one; a moment on its last day
    scores the same in both."""
    moment = _local(_last_day(risk_sample) - timedelta(days=5), clock)
    with _connect(risk_sample_earlier) as earlier, _connect(risk_sample) as full:
        before = stockout.stockout_risk(earlier, moment)
        after = stockout.stockout_risk(full, moment)
    pd.testing.assert_frame_equal(before, after)
    assert before.is_at_risk.any()
    # what was on order as of then, read from that day's count, not from later ones
    assert (before.replenishment_basis == "purchase_orders").all()


def test_the_forecast_follows_the_weekly_rhythm():
    weekly = np.array([1.0, 0.95, 0.95, 1.0, 1.05, 1.25, 1.2])
    history = np.tile(weekly, 8) * 300
    forecast = stockout.forecast_units(history, 13)
    assert np.allclose(forecast[:7], np.roll(weekly, 0) * 300, rtol=0.05)
    assert forecast[5] > forecast[2] * 1.2


def test_a_promotion_day_in_the_history_does_not_become_the_new_level():
    history = np.full(56, 100.0)
    history[-3:] = (170.0, 400.0, 170.0)
    assert stockout.forecast_units(history, 6).max() < 130


# ---- the stock-out probability, without a warehouse


def test_with_one_unit_per_line_the_units_short_are_a_poisson_tail():
    from scipy.stats import poisson

    mean = np.array([0.5, 2.0, 6.0, 30.0])
    available = np.array([0.0, 1.0, 4.0, 25.0])
    chance, short = stockout._compound_poisson_tail(available, mean, np.array([1.0]))
    np.testing.assert_allclose(chance, poisson.sf(available, mean), rtol=1e-9)
    units = np.arange(400)
    expected_short = [
        (np.maximum(units - stock, 0) * poisson.pmf(units, rate)).sum()
        for stock, rate in zip(available, mean, strict=True)
    ]
    np.testing.assert_allclose(short, expected_short, rtol=1e-6)


def test_lines_of_several_units_are_counted_as_a_simulation_of_the_orders_says():
    """Two units left, two expected, in lines of 1-5 units: the exact sum against 200,000
    simulated windows of the same orders."""
    quantities = np.array([0.8, 0.1, 0.05, 0.03, 0.02])
    mean_units = np.array([2.0])
    chance, short = stockout._compound_poisson_tail(np.array([2.0]), mean_units, quantities)
    rng = np.random.default_rng(0)
    orders = rng.poisson(mean_units[0] / (np.arange(1, 6) @ quantities), 200_000)
    units = np.array([rng.choice(np.arange(1, 6), n, p=quantities).sum() for n in orders])
    assert chance[0] == pytest.approx((units > 2).mean(), abs=0.01)
    assert short[0] == pytest.approx(np.maximum(units - 2, 0).mean(), abs=0.02)


def test_units_already_owed_make_any_order_short():
    chance, short = stockout._compound_poisson_tail(
        np.array([-3.0]), np.array([1.5]), np.array([1.0])
    )
    assert chance[0] == pytest.approx(1 - np.exp(-1.5))
    assert short[0] == pytest.approx(4.5)  # the three owed and the 1.5 to come


def test_a_large_seller_far_from_its_stock_has_no_chance_of_running_out():
    chance, short = stockout._compound_poisson_tail(
        np.array([5000.0, 480.0]), np.array([400.0, 500.0]), np.array([0.7, 0.3])
    )
    assert chance[0] < 1e-9 and short[0] < 1e-6
    assert 0.6 < chance[1] < 0.95  # around the mean: a real chance either way


def _rhythm(lateness):
    return {"lateness": np.array(lateness, dtype=float), "order_level": np.array([np.nan])}


def _arrivals(lateness, on_order, planned_in_days):
    return stockout._purchase_order_arrivals(
        _rhythm(lateness),
        np.array([on_order], dtype=float),
        np.array([planned_in_days], dtype=float),
        np.array([5.0]),
        np.ones((1, 30)),
        np.array([6.0]),
        datetime(2026, 11, 2, 0, 0),
    )


def test_an_open_order_arrives_on_its_day_or_as_late_as_orders_came_before():
    # eight orders on time, two three days late
    arrivals, weights = _arrivals([0] * 8 + [3] * 2, on_order=20, planned_in_days=4)
    assert dict(zip(arrivals[0], weights[0], strict=True)) == pytest.approx(
        {4 + stockout.ARRIVAL_CLOCK: 0.8, 7 + stockout.ARRIVAL_CLOCK: 0.2}
    )


def test_an_overdue_order_is_only_as_late_as_it_still_can_be():
    # due two days ago and still open: not on time, so one of the late ones
    arrivals, weights = _arrivals([0] * 8 + [3] * 2, on_order=20, planned_in_days=-2)
    assert weights[0].max() == pytest.approx(1.0)
    assert arrivals[0][weights[0].argmax()] == pytest.approx(1 + stockout.ARRIVAL_CLOCK)
    # later than any order seen: within OVERDUE_WAIT_DAYS
    arrivals, weights = _arrivals([0] * 8 + [3] * 2, on_order=20, planned_in_days=-5)
    assert arrivals[0][weights[0].argmax()] == stockout.OVERDUE_WAIT_DAYS


def test_nothing_on_order_and_no_reorder_seen_is_ordered_tonight():
    arrivals, weights = _arrivals([0], on_order=0, planned_in_days=np.nan)
    assert arrivals[0][0] == pytest.approx(6 + stockout.ARRIVAL_CLOCK)
    assert weights[0][0] == 1.0
