"""Warehouses with enough history for the risk models, built once per test session through
`oex`, as a user builds them.

The late-delivery replay needs about ten weeks: four of training, twelve days until their
verdicts are in, and the two weeks scored with their own verdicts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from filelock import FileLock

ORDERS, DAYS, SEED = "40000", "70", "3"
END = date(2026, 11, 15)
DAY_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def oex(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "OEX_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
    }
    for variable in ("OEX_WAREHOUSE", "OEX_INBOX", "OEX_MARTS", "OEX_TRUTH", "OEX_REPORTS"):
        env.pop(variable, None)
    env.pop("OEX_FIRST_DAY", None)  # the partitions follow this sample's inbox
    command = [sys.executable, "-m", "pipelines.cli", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, f"oex {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def generate(data_dir: Path) -> None:
    oex(
        data_dir,
        "generate",
        *("--orders", ORDERS, "--days", DAYS, "--merchants", "4", "--seed", SEED),
        *("--end-date", END.isoformat()),
    )


def shared_build(tmp_path_factory, name: str, build) -> Path:
    """A data folder built once for every test worker (pytest-xdist runs the risk files side
    by side): the first worker builds it under a lock, the others wait and reuse it."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, above each worker's own
    data_dir = root / name
    with FileLock(str(root / f"{name}.lock")):
        if not (data_dir / "built").exists():
            shutil.rmtree(data_dir, ignore_errors=True)
            data_dir.mkdir()
            build(data_dir)
            (data_dir / "built").touch()
    return data_dir


def _build_sample(data_dir: Path) -> None:
    generate(data_dir)
    oex(data_dir, "run")


@pytest.fixture(scope="session")
def risk_sample(tmp_path_factory) -> Path:
    """Ten weeks of orders, built: the data folder (warehouse, marts, truth, reports)."""
    return shared_build(tmp_path_factory, "risk_sample", _build_sample)


def copy_inbox_until(source: Path, target: Path, last_day: date) -> None:
    """The inbox as it stood on last_day: every dated file up to it (the SKU master always)."""
    for path in (source / "inbox").rglob("*"):
        if not path.is_file():
            continue
        match = DAY_IN_NAME.search(path.name)
        if match and date.fromisoformat(match.group(1)) > last_day and "skus" not in path.name:
            continue
        destination = target / "inbox" / path.relative_to(source / "inbox")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


@pytest.fixture(scope="session")
def risk_sample_earlier(risk_sample: Path, tmp_path_factory) -> Path:
    """The same sample built from the files of all but its last five days: what the warehouse
    knew five days earlier."""

    def build(data_dir: Path) -> None:
        copy_inbox_until(risk_sample, data_dir, END - timedelta(days=5))
        oex(data_dir, "run")

    return shared_build(tmp_path_factory, "risk_sample_earlier", build)
