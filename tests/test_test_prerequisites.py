"""`make test` checks what it needs outside Python before running anything."""

from __future__ import annotations

import os
import subprocess

from pipelines import settings

SCRIPT = settings.PROJECT_ROOT / ".ci" / "prerequisites"


def _check(chromium: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT)],
        env={**os.environ, "OEX_CHROMIUM": chromium},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_chromium_one_line_says_what_to_install():
    result = _check("/nonexistent/chromium")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "chromium" in line and "apt-get install -y chromium" in line
    assert result.stdout == ""


def test_with_its_prerequisites_it_says_nothing():
    result = _check("/usr/bin/chromium")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
