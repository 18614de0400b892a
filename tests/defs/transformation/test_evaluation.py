"""`oex evaluate` on a small truth and a small set of flagged exceptions, scored by hand."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipelines.evaluation import evaluate

T = pd.Timestamp("2026-11-10 02:00:00")


def test_precision_recall_and_support_per_sub_type(tmp_path, capsys):
    truth_dir, marts_dir, reports_dir = tmp_path / "truth", tmp_path / "marts", tmp_path / "reports"
    truth_dir.mkdir()
    marts_dir.mkdir()
    pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "exception_type": ["out_of_stock", "out_of_stock", "out_of_stock", "wrong_item"],
            "observable_at": [T, T, T, T],
        }
    ).to_parquet(truth_dir / "exceptions.parquet")
    # o1, o2 found; o3 missed; o5 a false alarm; wrong_item found
    pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o5", "o4"],
            "exception_type": ["out_of_stock", "out_of_stock", "out_of_stock", "wrong_item"],
            "detected_at": [T, T, T, T],
        }
    ).to_parquet(marts_dir / "fct_order_exceptions.parquet")
    pd.DataFrame({"exception_type": ["out_of_stock", "wrong_item", "expedited"]}).to_parquet(
        marts_dir / "dim_exception_types.parquet"
    )

    scores = evaluate(truth_dir, marts_dir=marts_dir, reports_dir=reports_dir)

    assert scores["out_of_stock"] == {
        "precision": pytest.approx(2 / 3),
        "recall": pytest.approx(2 / 3),
        "support": 3,
    }
    assert scores["wrong_item"] == {"precision": 1.0, "recall": 1.0, "support": 1}
    assert scores["expedited"] == {"precision": 1.0, "recall": 1.0, "support": 0}
    written = json.loads((reports_dir / "accuracy.json").read_text())
    assert written["out_of_stock"]["support"] == 3
    assert "out_of_stock" in capsys.readouterr().out


def test_a_missing_truth_says_to_generate(tmp_path):
    with pytest.raises(FileNotFoundError, match="oex generate"):
        evaluate(tmp_path / "truth", marts_dir=tmp_path, reports_dir=tmp_path)
