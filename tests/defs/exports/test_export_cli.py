"""`oex export` writes the same files as the asset and prints their paths."""

from click.testing import CliRunner

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
