"""How good a risk score is, in the terms the issue and the README use.

Every function takes the outcome (1 = it went wrong) and the score (a probability) of the same
rows, as numpy arrays.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score


class NotScoredError(ValueError):
    """Why a risk has no scores: the data cannot support them yet. str() is the sentence for
    logs and the command line; `code` and `details` let a page say it in its own language."""

    def __init__(self, code: str, message: str, **details):
        super().__init__(message)
        self.code = code
        self.details = details

    def as_report(self) -> dict:
        """What a report holds in place of the figures."""
        return {"not_enough_history": str(self), "reason": {"code": self.code, **self.details}}


def roc_auc(outcome: np.ndarray, score: np.ndarray) -> float | None:
    """Chance that a random late order scores above a random on-time one; None without both."""
    if len(np.unique(outcome)) < 2:
        return None
    return float(roc_auc_score(outcome, score))


def precision_at_top(outcome: np.ndarray, score: np.ndarray, share: float = 0.05) -> float | None:
    """Share of the top `share` of rows by score that went wrong: the orders a team would act
    on first if it could look at only one in twenty."""
    if len(outcome) == 0:
        return None
    count = max(1, round(len(outcome) * share))
    top = np.argsort(-score, kind="stable")[:count]
    return float(outcome[top].mean())


def brier(outcome: np.ndarray, score: np.ndarray) -> float | None:
    """Mean squared distance between the probability and what happened (lower is better)."""
    if len(outcome) == 0:
        return None
    return float(np.mean((score - outcome) ** 2))


def calibration_error(outcome: np.ndarray, score: np.ndarray, bins: int = 10) -> float | None:
    """Expected calibration error over equal-count bins of the score: the rows-weighted mean gap
    between the probability said and the share that went wrong. Equal-count bins, because late
    orders are rare and equal-width bins would leave almost every row in the first one."""
    if len(outcome) == 0:
        return None
    order = np.argsort(score, kind="stable")
    gaps = [
        len(part) * abs(score[part].mean() - outcome[part].mean())
        for part in np.array_split(order, min(bins, len(order)))
        if len(part)
    ]
    return float(sum(gaps) / len(outcome))


def scores(outcome: np.ndarray, score: np.ndarray) -> dict[str, float | None]:
    """The four measures of the risk report, for one score."""
    outcome = np.asarray(outcome, dtype=float)
    score = np.asarray(score, dtype=float)
    return {
        "roc_auc": roc_auc(outcome, score),
        "precision_at_top_5pct": precision_at_top(outcome, score),
        "brier": brier(outcome, score),
        "calibration_error": calibration_error(outcome, score),
    }
