"""An export killed with SIGKILL half-way, then re-run, leaves exactly what an uninterrupted
export leaves, and the week a reader sees is never a mix of old and new files."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from report_weeks import WEEK

from pipelines import settings
from pipelines.defs.exports.reports import export_week


def folder_checksums(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def kill_export_mid_write(exports: Path) -> None:
    """Start `oex export` in another process and SIGKILL it once it is writing files."""
    environment = {**os.environ, "OEX_EXPORTS": str(exports)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "export", "--week", WEEK],
        cwd=settings.PROJECT_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        staged = [path for path in exports.glob(f".{WEEK}.staging-*/*/*") if path.is_file()]
        if staged:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    assert process.wait(timeout=60) == -signal.SIGKILL, "the export finished before the kill"


def test_a_killed_export_then_a_rerun_equals_an_uninterrupted_export(
    marts, data_folders, monkeypatch, tmp_path
) -> None:
    reference = tmp_path / "reference_exports"
    monkeypatch.setenv("OEX_EXPORTS", str(reference))
    export_week(WEEK)
    expected = folder_checksums(reference)

    victim = data_folders["exports"]
    monkeypatch.setenv("OEX_EXPORTS", str(victim))
    victim.mkdir(parents=True)
    kill_export_mid_write(victim)
    assert not (victim / WEEK).exists()  # nothing half-written where readers look

    export_week(WEEK)
    assert folder_checksums(victim) == expected

    # Killing a re-export leaves the previous complete week in place.
    kill_export_mid_write(victim)
    assert folder_checksums(victim / WEEK) == folder_checksums(reference / WEEK)
    export_week(WEEK)
    assert folder_checksums(victim) == expected
    assert sorted(path.name for path in victim.iterdir()) == [WEEK]
