"""Errors a user can cause print one clear line and exit non-zero, without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OEX_DATA_DIR", str(tmp_path))
    for variable in ("OEX_INBOX", "OEX_TRUTH", "OEX_MARTS", "OEX_PROFILES"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


def one_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_a_missing_inbox_says_it_is_missing_not_empty(data_dir: Path):
    line = one_line(CliRunner().invoke(main, ["run"]))
    assert line.startswith(f"Error: The inbox folder {data_dir / 'inbox'} does not exist")


def test_a_misspelt_profile_stops_the_run_naming_key_and_fix(data_dir, tmp_path, monkeypatch):
    (data_dir / "inbox" / "orders").mkdir(parents=True)
    (data_dir / "inbox" / "orders" / "orders_2026-11-01.csv").write_text("order_id\n1\n")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "shop.yml").write_text("files: [shop_*]\ntables:\n  orders:\n    colums: {}\n")
    monkeypatch.setenv("OEX_PROFILES", str(profiles))

    line = one_line(CliRunner().invoke(main, ["run"]))
    assert "shop.yml" in line and "'colums'" in line and "did you mean 'columns'" in line


def test_evaluate_before_any_run_says_what_to_run(data_dir: Path):
    (data_dir / "marts").mkdir()
    result = CliRunner().invoke(main, ["evaluate"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    # no truth (as on a real export): only the risks, and they need a warehouse
    note, error = [line for line in result.output.splitlines() if line.strip()]
    assert note.startswith(f"no generator truth in {data_dir / 'truth'}")
    assert error.startswith("Error:") and "run `oex run`" in error


def test_evaluate_against_a_truth_folder_that_is_not_one_says_what_to_run(data_dir: Path):
    (data_dir / "marts").mkdir()
    line = one_line(CliRunner().invoke(main, ["evaluate", "--truth", str(data_dir / "nothing")]))
    assert "exceptions.parquet does not exist: run `oex generate` first" in line


def test_a_second_run_while_one_is_in_progress_stops_before_touching_anything(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    import fcntl
    import os

    monkeypatch.delenv("OEX_WAREHOUSE", raising=False)
    (data_dir / "inbox" / "orders").mkdir(parents=True)
    (data_dir / "inbox" / "orders" / "orders_2026-11-01.csv").write_text("order_id\n1\n")
    # the first run: another process holding the run lock beside the warehouse
    with (data_dir / ".oex-run.lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write(f"pid {os.getpid()}, started 2026-12-02 09:00:00 UTC")
        held.flush()
        result = CliRunner().invoke(main, ["run"])
        history = CliRunner().invoke(main, ["import-history"])

    assert result.exit_code == history.exit_code == 4
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith(f"Another oex run is in progress (pid {os.getpid()}, started 2026-12-02")
    assert not (data_dir / "warehouse.duckdb").exists()  # nothing touched
