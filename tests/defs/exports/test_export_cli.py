"""`oex export` writes the same files as the asset and prints their paths."""

from click.testing import CliRunner

from pipelines.cli import main


def test_oex_export_prints_the_files_of_one_merchant(marts, data_folders) -> None:
    result = CliRunner().invoke(main, ["export", "--week", "2026-W46", "--merchant", "MZK03"])

    assert result.exit_code == 0, result.output
    printed = result.output.split()
    assert [line.rsplit("/", 2)[-2] for line in printed[:2]] == ["云上-优品-店"] * 2
    assert printed[-1] == str(data_folders["exports"] / "2026-W46" / "manifest.json")
