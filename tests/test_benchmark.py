"""The benchmark machinery at a tiny size: the report's shape and the pandas peer's numbers.

No timing assertions: a shared CI machine cannot promise speed; `make bench` measures it.
"""

import json

import pandas as pd
import pytest

from pipelines.benchmark import figures_differences, run_benchmark

pytestmark = pytest.mark.slow

SIZE_FIGURES = {
    "full_build_s",
    "peak_rss_mb",
    "incremental_s",
    "floor_s",
    "pandas_s",
    "pandas_peak_rss_mb",
    "page_query_s",
    "latency_s",
    "latency_exceptions",
}
PAGES = {"weekly_review", "root_causes", "exception_list", "data_health"}


def test_tiny_benchmark_writes_every_figure_and_pandas_agrees_with_our_marts(tmp_path):
    report_path = tmp_path / "bench.json"

    report = run_benchmark([1_000], days=7, scratch=tmp_path, report_path=report_path)

    written = json.loads(report_path.read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(report))
    assert set(written) >= {"sizes", "scaling_exponent", "machine"}
    assert written["scaling_exponent"] is None  # one size: nothing to scale between
    assert written["daily_ratio_10m_1m"] is None  # needs both sizes
    figures = written["sizes"]["1000"]
    assert set(figures) >= SIZE_FIGURES
    assert set(figures["page_query_s"]) == PAGES
    for name in SIZE_FIGURES - {"page_query_s"}:
        assert figures[name] > 0, name
    for run, steps in (
        ("full_build_s", "full_build_steps_s"),
        ("incremental_s", "incremental_steps_s"),
    ):
        parts = figures[steps]
        assert set(parts) == {"ingestion", "checks", "dbt", "risk", "export", "rest"}
        assert parts["dbt"] > 0 and parts["ingestion"] > 0, steps
        assert abs(sum(parts.values()) - figures[run]) < 0.5, steps  # the parts add up
        assert min(parts.values()) >= 0, parts  # and none is negative: "rest" is measured
    # the latency run went through the daemon, the sensor and daily_build: its run started
    # after the files landed, and its day's orders' exceptions are in the published marts
    assert figures["latency_before_run_s"] > 0
    assert figures["latency_s"] > figures["latency_run_s"] > 0
    assert figures["peer_figures_rows"] > 0
    assert figures["peer_figures_differences"] == []
    assert figures["peer_figures_match"] is True


def test_a_different_median_is_reported_as_a_difference():
    ours = pd.DataFrame(
        {
            "week": ["2026-W45"],
            "exception_type": ["payment_timeout"],
            "exceptions": [3],
            "type_share": [1.0],
            "median_handling_hours": [2.0],
        }
    )
    theirs = ours.assign(median_handling_hours=[2.5])

    assert figures_differences(ours, ours.copy()) == []
    assert figures_differences(ours, theirs) == [
        "2026-W45 payment_timeout median_handling_hours: ours 2.0, pandas 2.5"
    ]
