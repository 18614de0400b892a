"""`oex export` writes the same files as the asset and prints their paths; so does
`make export`."""

import os
import re
import subprocess

from click.testing import CliRunner

from pipelines import settings
from pipelines.cli import main


def test_oex_export_prints_the_files_of_one_merchant(marts, data_folders) -> None:
    result = CliRunner().invoke(main, ["export", "--week", "2026-W46", "--merchant", "MZK03"])

    assert result.exit_code == 0, result.output
    printed = result.output.split()
    assert [line.rsplit("/", 2)[-2] for line in printed[:2]] == ["云上-优品-店_MZK03"] * 2
    assert printed[-1] == str(data_folders["exports"] / "2026-W46" / "manifest.json")


def _one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_a_malformed_week_is_one_clear_line(marts, data_folders) -> None:
    line = _one_line_error(CliRunner().invoke(main, ["export", "--week", "2026-46"]))
    assert line == "Error: week must look like 2026-W46, got '2026-46'"


def test_an_unknown_merchant_is_one_clear_line(marts, data_folders) -> None:
    result = CliRunner().invoke(main, ["export", "--week", "2026-W46", "--merchant", "M404"])
    assert _one_line_error(result) == "Error: merchant 'M404' does not appear in the marts"


def test_missing_marts_say_how_to_get_them(data_folders) -> None:
    line = _one_line_error(CliRunner().invoke(main, ["export", "--week", "2026-W46"]))
    assert "The exported marts are missing" in line and "oex run" in line


def test_a_week_without_data_says_so_and_exits_3(marts, data_folders) -> None:
    result = CliRunner().invoke(main, ["export", "--week", "2025-W01"])

    assert result.exit_code == 3, result.output
    assert "No merchant has orders or exceptions in 2025-W01" in result.output
    assert not (data_folders["exports"] / "2025-W01").exists()


def test_version_is_printed() -> None:
    from importlib.metadata import version

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"oex, version {version('order-exceptions')}"


def _make(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-s", *arguments],
        cwd=settings.PROJECT_ROOT,
        env=os.environ,  # OEX_MARTS and OEX_EXPORTS point at this test's folders
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_make_export_writes_the_weeks_files_and_asks_for_the_week(marts, data_folders) -> None:
    asked = _make("export")
    assert asked.returncode != 0 and "Say which ISO week: make export WEEK=2026-W46" in asked.stdout

    done = _make("export", "WEEK=2026-W46", "MERCHANT=MZK03")
    assert done.returncode == 0, done.stdout + done.stderr
    folder = data_folders["exports"] / "2026-W46" / "云上-优品-店_MZK03"
    assert sorted(path.suffix for path in folder.iterdir()) == [".html", ".xlsx"]


def test_make_help_lists_every_target_plainly_and_the_readme_names_them() -> None:
    shown = _make("help")
    assert shown.returncode == 0 and "\x1b[" not in shown.stdout  # not a terminal: no colour
    makefile = (settings.PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    targets = re.findall(r"^([a-z-]+):.*## ", makefile, re.MULTILINE)
    assert [line.split()[0] for line in shown.stdout.splitlines()] == targets
    readme = (settings.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert [t for t in targets if f"`make {t}" not in readme and t != "help"] == []
