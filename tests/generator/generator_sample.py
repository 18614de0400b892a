"""Generate small samples for the generator tests."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.generator import generate

END_DATE = dt.date(2026, 11, 15)


@dataclass
class Sample:
    inbox: Path
    truth_dir: Path
    summary: str

    @property
    def manifest(self) -> dict:
        return json.loads((self.truth_dir / "manifest.json").read_text(encoding="utf-8"))

    @property
    def truth(self) -> pa.Table:
        return pq.read_table(self.truth_dir / "exceptions.parquet")


def make_sample(
    root: Path,
    orders: int = 8_000,
    seed: int = 7,
    file_format: str = "csv",
    bad_rows: float = 0.0,
    days: int = 30,
) -> Sample:
    summary = generate(
        orders=orders,
        days=days,
        merchants=8,
        seed=seed,
        end_date=END_DATE,
        file_format=file_format,
        bad_rows=bad_rows,
        inbox=root / "inbox",
        truth_dir=root / "truth",
    )
    return Sample(inbox=root / "inbox", truth_dir=root / "truth", summary=summary)
