"""Merchant names are untrusted: their folder names must stay inside the exports folder."""

from pathlib import Path

import pytest

from pipelines.defs.exports.naming import merchant_slug, previous_week, safe_child, week_monday


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("星辰旗舰店", "星辰旗舰店"),
        ("Blue Harbor Trading", "Blue-Harbor-Trading"),
        ("../../etc", "etc"),
        ("a/../../x", "a-x"),
        ("云上/优品..店", "云上-优品-店"),
        ("back\\slash\x00nul\x1fctl", "back-slash-nul-ctl"),
        ("全角／斜杠．．", "全角-斜杠"),  # full-width look-alikes are folded before cleaning
        ("CON", "CON-merchant"),
    ],
)
def test_merchant_names_become_safe_folder_names(name: str, expected: str) -> None:
    assert merchant_slug(name, "M1") == expected


@pytest.mark.parametrize("name", ["..", "/", "", None, " \t", "../.."])
def test_a_name_with_nothing_left_falls_back_to_the_merchant_id(name: str | None) -> None:
    assert merchant_slug(name, "M-07") == "M-07"


def test_safe_child_refuses_a_name_that_leaves_the_folder(tmp_path: Path) -> None:
    assert safe_child(tmp_path, "星辰旗舰店") == tmp_path.resolve() / "星辰旗舰店"
    for crafted in ("..", "../x", "a/b", "/etc"):
        with pytest.raises(ValueError, match="outside"):
            safe_child(tmp_path, crafted)


def test_iso_weeks_parse_and_step_back_across_a_year() -> None:
    assert week_monday("2026-W46").isoformat() == "2026-11-09"
    assert previous_week("2026-W01") == "2025-W52"
    assert previous_week("2026-W46", 7) == "2026-W39"


@pytest.mark.parametrize("week", ["2026-46", "2026-W54", "../2026-W46", "2026-W4"])
def test_a_malformed_week_is_refused(week: str) -> None:
    with pytest.raises(ValueError):
        week_monday(week)
