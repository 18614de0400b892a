"""One exception catalogue: what the real dbt build, the generator, the dashboard and the
merchant files say about a sub-type is the catalogue's (dbt_project/seeds), or this fails."""

from __future__ import annotations

import openpyxl
import pytest

from dashboards.i18n import Catalogue
from pipelines import catalogue
from pipelines.generator.exception_types import BY_CODE

TYPES = catalogue.exception_types()


def test_the_catalogue_is_consistent():
    assert catalogue.check_catalogue() == []
    assert {kind.kind for kind in TYPES.values()} == {"failure", "special_request"}
    assert all(kind.sla_measures == "first_response" for kind in TYPES.values())


def test_the_generator_plants_each_sub_type_with_the_catalogues_sla_family_and_owner():
    assert list(BY_CODE) == list(TYPES)
    for code, planted in BY_CODE.items():
        assert (planted.family, planted.sla_hours, planted.owner_team) == (
            TYPES[code].family,
            TYPES[code].sla_hours,
            TYPES[code].owner_team,
        ), code


def test_the_build_and_the_dashboard_show_the_catalogues_sla_family_and_owner(
    fixture_build, monkeypatch
):
    built = fixture_build.mart("dim_exception_types").set_index("exception_type")
    assert set(built.index) == set(TYPES)
    for code, kind in TYPES.items():
        row = built.loc[code]
        assert (row.family, row.kind, row.priority, row.sla_hours, row.owner_team) == (
            kind.family,
            kind.kind,
            kind.priority,
            kind.sla_hours,
            kind.owner_team,
        ), code
        assert row.root_cause == kind.root_cause

    monkeypatch.setenv("OEX_MARTS", str(fixture_build.marts_dir))
    from dashboards import data

    shown = data.exception_types().set_index("exception_type")
    for code, kind in TYPES.items():
        assert (shown.loc[code, "sla_hours"], shown.loc[code, "family"]) == (
            kind.sla_hours,
            kind.family,
        )
        assert shown.loc[code, "owner_team"] == kind.owner_team
    for language in catalogue.LANGUAGES:
        texts = Catalogue(language)
        for code, kind in TYPES.items():
            assert texts.name("exception_type", code) == kind.names[language]
            assert (
                texts.name("family", kind.family)
                == catalogue.families()[kind.family].names[language]
            )


@pytest.mark.parametrize("language", catalogue.LANGUAGES)
def test_the_merchant_files_name_family_owner_and_priority_as_the_catalogue(
    fixture_build, monkeypatch, tmp_path, language
):
    from pipelines.defs.exports.reports import export_week

    monkeypatch.setenv("OEX_MARTS", str(fixture_build.marts_dir))
    monkeypatch.setenv("OEX_EXPORTS", str(tmp_path / "exports"))
    languages = tmp_path / "merchants.yml"
    languages.write_text(f"default_language: {language}\n", encoding="utf-8")
    texts = Catalogue(language)
    by_name = {kind.names[language]: kind for kind in TYPES.values()}

    written = export_week("2026-W46", languages_file=languages)

    checked = 0
    for workbook in (path for path in written if path.suffix == ".xlsx"):
        actions = list(openpyxl.load_workbook(workbook).worksheets[3].iter_rows(values_only=True))
        header = actions[0]
        for row in actions[1:]:
            record = dict(zip(header, row, strict=False))
            kind = by_name[record[header[0]]]
            assert record[header[1]] == texts.name("family", kind.family)
            assert record[header[3]] == kind.priority
            assert record[header[4]] == texts.name("owner_team", kind.owner_team)
            checked += 1
    assert checked > 0
