"""Data health: is what the other pages show complete and current?"""

import pandas as pd
import streamlit as st

from dashboards import data, ui
from dashboards.components.formatting import format_age, format_count, format_size

texts = ui.catalogue()
st.title(texts.text("health.title"))


def _shown(
    result: data.Shown,
    name: str,
    key: str,
    times: tuple[str, ...] = (),
    when_empty: str = "empty.no_rows",
) -> None:
    if not result.as_expected:
        st.warning(texts.text("health.unexpected_columns", name=name))
    if result.rows.empty:
        st.info(texts.text(when_empty))
        return
    ui.table(result.rows, texts, name, key=key, times=times)


# ---- ingestion
st.subheader(texts.text("health.ingestion"))
if not ui.missing(texts, "rpt_ingestion_health"):
    _shown(
        data.ingestion_by_domain(),
        "rpt_ingestion_health",
        "ingestion_table",
        times=("last_ingested_at",),
    )
    with st.expander(texts.text("health.ingestion_files")):
        recent = data.recent_ingestions()
        ui.table(
            recent, texts, "ingested_files", key="ingested_files_table", times=("ingested_at",)
        )

# ---- what each source provides to the rules
st.subheader(texts.text("health.sources"))
if not ui.missing(texts, "rpt_source_coverage"):
    lacking = data.missing_inputs()
    if lacking.empty:
        st.success(texts.text("health.sources_complete"), icon=":material/check_circle:")
    else:
        st.caption(texts.text("health.sources_caption"))
        named = lacking.assign(
            rules_not_assessed=[
                ", ".join(texts.name("exception_type", code.strip()) for code in codes.split(","))
                if isinstance(codes, str)
                else ""
                for codes in lacking["rules_not_assessed"]
            ]
        )
        ui.table(named, texts, "source_coverage", key="sources_table")

# ---- quarantine
st.subheader(texts.text("health.quarantine"))
if not ui.missing(texts, "rpt_quarantine"):
    reasons = data.quarantine_reasons()
    if reasons.as_expected and not reasons.rows.empty:
        st.metric(texts.column("rows_quarantined"), format_count(reasons.rows["rows"].sum()))
    _shown(
        reasons,
        "rpt_quarantine",
        "quarantine_table",
        times=("last_quarantined_at",),
        when_empty="health.no_quarantine",
    )

# ---- asset checks
st.subheader(texts.text("health.asset_checks"))
if data.missing_marts(data.ASSET_CHECKS):
    st.info(texts.text("empty.no_asset_checks", path=data.mart_path(data.ASSET_CHECKS)))
else:
    checks = data.asset_checks()
    if checks.as_expected and not checks.rows.empty:
        not_passed = ~checks.rows["passed"].astype(bool)
        blocking = checks.rows["severity"].astype(str).str.upper() == "ERROR"
        failed, warned = int((not_passed & blocking).sum()), int((not_passed & ~blocking).sum())
        if failed:
            st.error(texts.text("health.checks_failed", failed=failed), icon=":material/error:")
        if warned:
            st.warning(texts.text("health.checks_warned", warned=warned), icon=":material/warning:")
        if not failed and not warned:
            st.success(texts.text("health.checks_passed"), icon=":material/check_circle:")
        shown = checks.rows.assign(
            passed=checks.rows["passed"].map(
                lambda ok: texts.name("status", "passed" if ok else "failed")
            )
        )
        _shown(
            data.Shown(shown, True),
            data.ASSET_CHECKS,
            "asset_checks_table",
            times=("evaluated_at",),
        )
    else:
        _shown(checks, data.ASSET_CHECKS, "asset_checks_table")

# ---- freshness
st.subheader(texts.text("health.freshness"))
fresh = data.freshness()
hours, minutes = texts.text("unit.hours"), texts.text("unit.minutes")
fresh = pd.DataFrame(
    {
        "mart": fresh["mart"],
        "modified_at": fresh["modified_at"],
        "age": [format_age(age, hours, minutes) for age in fresh["age_hours"]],
        "size": [format_size(size) for size in fresh["size"]],
    }
)
ui.table(fresh, texts, "marts_freshness", key="freshness_table", times=("modified_at",))
