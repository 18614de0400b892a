"""The README's analyst example, done for real: a fourth merchant rule added to a copy of the
project flows into the marts, and a forgotten depends_on line stops the build with the fix."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines import settings

sys.path.insert(0, str(Path(__file__).parent))
from raw_fixture import DBT, FIXTURE_DIR, copy_project, load_raw_fixture

RULE = "int_exception__signature_required"


def readme_block(language: str, after: str) -> str:
    """The first fenced block of a language after a phrase of the README's new-rule recipe,
    exactly as the README shows it."""
    readme = (settings.PROJECT_ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("### Adding a merchant rule") :]
    section = section[section.index(after) :]
    block = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)[1]
    return "\n".join(line.removeprefix("   ") for line in block.splitlines()) + "\n"


def add_rule_files(project: Path, *, declare_in_union: bool) -> None:
    """The README's steps, from the README's own text."""
    rules = project / "models" / "intermediate" / "exceptions" / "rules"
    (rules / f"{RULE}.sql").write_text(readme_block("sql", f"{RULE}.sql`:"), "utf-8")
    with (project / "seeds" / "exception_catalogue.csv").open("a", encoding="utf-8") as seed:
        seed.write(readme_block("csv", "seeds/exception_catalogue.csv"))
    models_yaml = rules / "_rules__models.yml"
    document = yaml.safe_load(models_yaml.read_text("utf-8"))
    document["models"].append(
        {
            "name": RULE,
            "description": "One row per order over signature_amount of a merchant that asked.",
        }
    )
    document["unit_tests"] += yaml.safe_load(readme_block("yaml", "Its unit test"))
    models_yaml.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    project_yaml = project / "dbt_project.yml"
    config = yaml.safe_load(project_yaml.read_text("utf-8"))
    config["vars"]["signature_amount"] = 2000
    project_yaml.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    with (project / "seeds" / "merchant_custom_rules.csv").open("a", encoding="utf-8") as seed:
        seed.write("M1,signature_required\n")
    if declare_in_union:
        union = project / "models" / "intermediate" / "exceptions" / "int_exceptions_unioned.sql"
        line = f"-- depends_on: {{{{ ref('{RULE}') }}}}\n"
        union.write_text(line + union.read_text("utf-8"), "utf-8")


def dbt(project: Path, warehouse: Path, *arguments: str) -> subprocess.CompletedProcess:
    environment = os.environ | {
        "OEX_WAREHOUSE": str(warehouse),
        "OEX_DUCKDB_TEMP": str(warehouse.parent / "tmp"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    return subprocess.run(
        [str(DBT), *arguments, "--project-dir", str(project), "--profiles-dir", str(project)],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow
def test_a_new_merchant_rule_reaches_the_marts(tmp_path: Path):
    project = copy_project(tmp_path)
    add_rule_files(project, declare_in_union=True)
    warehouse = tmp_path / "warehouse.duckdb"
    load_raw_fixture(warehouse, FIXTURE_DIR)
    with duckdb.connect(str(warehouse)) as connection:
        # every fixture order is 100.00: one order of each merchant goes over the amount
        connection.execute(
            "update raw.orders set order_amount = 2500 where order_id in ('A2', 'A4')"
        )

    built = dbt(project, warehouse, "build")
    assert built.returncode == 0, built.stdout[-3000:]

    assert "PASS signature_required_flags_only_matching_orders" in re.sub(
        r"\s+", " ", built.stdout.replace("int_exception__signature_required::", "")
    )
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        flagged = connection.execute(
            "select order_id from marts.fct_order_exceptions"
            " where exception_type = 'signature_required'"
        ).fetchall()
        configured = connection.execute(
            "select family, kind, owner_team from marts.dim_exception_types"
            " where exception_type = 'signature_required'"
        ).fetchall()
    # A2 (M1, asked, over the amount); not A4 (M2 did not ask), not M1's 100.00 orders
    assert flagged == [("A2",)]
    assert configured == [("special", "special_request", "warehouse")]


def test_a_rule_missing_from_the_union_stops_the_build_with_the_fix(tmp_path: Path):
    project = copy_project(tmp_path)
    add_rule_files(project, declare_in_union=False)
    compiled = dbt(
        project, tmp_path / "warehouse.duckdb", "compile", "--select", "int_exceptions_unioned"
    )
    assert compiled.returncode != 0
    assert f"-- depends_on: {{{{ ref('{RULE}') }}}}" in compiled.stdout
