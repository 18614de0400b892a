"""`oex evaluate`: how well the dbt rules find the exceptions the generator planted.

An exception is the pair (order_id, exception_type). Per sub-type: precision = flagged pairs
that are true / flagged pairs, recall = true pairs flagged / true pairs, support = true pairs.
A sub-type with nothing flagged and nothing true scores 1.0 on both (support 0 says so).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pipelines import marts, settings

KEY = ["order_id", "exception_type"]


def _pairs(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[KEY].drop_duplicates()


def _read_flagged(marts_dir: Path) -> tuple[pd.DataFrame, list[str]]:
    if not marts.exists(marts_dir, "fct_order_exceptions"):
        raise FileNotFoundError(
            f"{marts.location(marts_dir, 'fct_order_exceptions')} does not exist: run `oex run` "
            "(or `make pipeline`) first."
        )
    flagged = marts.read(marts_dir, "fct_order_exceptions", columns=[*KEY, "detected_at"])
    types_file = marts_dir / "dim_exception_types.parquet"
    codes = pd.read_parquet(types_file).exception_type.tolist() if types_file.exists() else []
    return flagged, codes


TRUTH_FILE = "exceptions.parquet"


def has_truth(truth_dir: Path) -> bool:
    """Whether the folder holds a generator's truth: a real export has none."""
    return (truth_dir / TRUTH_FILE).exists()


def _read_truth(truth_dir: Path) -> pd.DataFrame:
    truth_file = truth_dir / TRUTH_FILE
    if not truth_file.exists():
        raise FileNotFoundError(f"{truth_file} does not exist: run `oex generate` first.")
    return pd.read_parquet(truth_file, columns=[*KEY, "observable_at"])


def score(truth: pd.DataFrame, flagged: pd.DataFrame, codes: list[str]) -> dict[str, dict]:
    """Precision, recall and support per sub-type code."""
    merged = _pairs(truth).merge(_pairs(flagged), on=KEY, how="outer", indicator=True)
    all_codes = sorted(set(codes) | set(merged.exception_type))
    counts = (
        merged.groupby(["exception_type", "_merge"], observed=False).size().unstack(fill_value=0)
    )
    scores: dict[str, dict] = {}
    for code in all_codes:
        row = counts.loc[code] if code in counts.index else {}
        hits = int(row.get("both", 0))
        missed = int(row.get("left_only", 0))
        false_alarms = int(row.get("right_only", 0))
        support = hits + missed
        flagged_count = hits + false_alarms
        scores[code] = {
            "precision": hits / flagged_count if flagged_count else 1.0,
            "recall": hits / support if support else 1.0,
            "support": support,
        }
    return scores


def detected_at_agreement(truth: pd.DataFrame, flagged: pd.DataFrame) -> dict[str, float]:
    """Per code, the share of matched pairs whose detected_at equals the truth's observable_at."""
    matched = truth.merge(flagged, on=KEY, how="inner")
    if matched.empty:
        return {}
    same = pd.to_datetime(matched.detected_at) == pd.to_datetime(matched.observable_at)
    return same.groupby(matched.exception_type).mean().to_dict()


def format_table(scores: dict[str, dict], agreement: dict[str, float]) -> str:
    lines = [f"{'exception_type':28} {'precision':>9} {'recall':>7} {'support':>8} {'time ok':>8}"]
    for code, row in scores.items():
        time_ok = f"{agreement[code]:8.3f}" if code in agreement else f"{'-':>8}"
        lines.append(
            f"{code:28} {row['precision']:9.4f} {row['recall']:7.4f} {row['support']:8d} {time_ok}"
        )
    worst = min((min(r["precision"], r["recall"]) for r in scores.values()), default=1.0)
    lines.append(f"lowest precision or recall: {worst:.4f}")
    return "\n".join(lines)


def evaluate(
    truth_dir: Path, marts_dir: Path | None = None, reports_dir: Path | None = None
) -> dict[str, dict]:
    """Compare fct_order_exceptions with the generator's truth; write accuracy.json."""
    marts_dir = settings.published_marts_dir(marts_dir)
    reports_dir = reports_dir or settings.reports_dir()
    truth = _read_truth(truth_dir)
    flagged, codes = _read_flagged(marts_dir)
    scores = score(truth, flagged, codes)
    reports_dir.mkdir(parents=True, exist_ok=True)
    report = reports_dir / "accuracy.json"
    report.write_text(json.dumps(scores, indent=2) + "\n", encoding="utf-8")
    print(format_table(scores, detected_at_agreement(truth, flagged)))
    print(f"written: {report}")
    return scores
