"""Weekly review: how the week went, what changed, why, and what to do."""

from datetime import timedelta

import streamlit as st

from dashboards import data, ui
from dashboards.components import charts
from dashboards.components.formatting import (
    format_count,
    format_count_change,
    format_hours,
    format_hours_change,
    format_percent,
    format_share_change,
    previous_week,
    trailing_weeks,
    week_start,
)

texts = ui.catalogue()
filters = ui.current_filters()
st.title(texts.text("weekly.title"))

if filters is None:
    ui.no_filters(texts)
    st.stop()

monday = week_start(filters.week)
st.caption(
    texts.text(
        "weekly.subtitle",
        week=filters.week,
        start=monday.isoformat(),
        end=(monday + timedelta(days=6)).isoformat(),
    )
)

if ui.missing(texts, "rpt_weekly_kpis", "fct_order_exceptions"):
    st.stop()

# ---- is the week complete? Logistics and fulfilment failures appear days after the order.
weeks = data.weeks()
provisional = weeks.is_provisional(filters.week)
if provisional:
    st.warning(
        texts.text(
            "weekly.provisional",
            week=filters.week,
            share=format_percent(weeks.share_visible(filters.week), 0),
            mature=weeks.default or "",
        ),
        icon=":material/hourglass_top:",
    )

# ---- KPI tiles: this week against the one before (at the same age if this one is young)
kpis = data.weekly_kpis(filters).set_index("week")
if filters.week not in kpis.index:
    st.info(texts.text("empty.no_rows"))
    st.stop()
now = kpis.loc[filters.week]
before = (
    kpis.loc[previous_week(filters.week)] if previous_week(filters.week) in kpis.index else None
)
points = texts.text("unit.percentage_points")
hours = texts.text("unit.hours")


def _before(column: str):
    return None if before is None else before[column]


tiles = [
    (
        "orders",
        format_count(now["orders"]),
        format_count_change(now["orders"], _before("orders")),
        "normal",
    ),
    (
        "exception_rate",
        format_percent(now["exception_rate"]),
        format_share_change(now["exception_rate"], _before("exception_rate"), points),
        "inverse",
    ),
    (
        "open_exceptions",
        format_count(now["open_exceptions"]),
        format_count_change(now["open_exceptions"], _before("open_exceptions")),
        "inverse",
    ),
    (
        "overdue_exceptions",
        format_count(now["overdue_exceptions"]),
        format_count_change(now["overdue_exceptions"], _before("overdue_exceptions")),
        "inverse",
    ),
    (
        "sla_met_share",
        format_percent(now["sla_met_share"]),
        format_share_change(now["sla_met_share"], _before("sla_met_share"), points),
        "normal",
    ),
    (
        "median_handling_hours",
        format_hours(now["median_handling_hours"], hours),
        format_hours_change(now["median_handling_hours"], _before("median_handling_hours"), hours),
        "inverse",
    ),
    (
        "recurrence_rate",
        format_percent(now["recurrence_rate"]),
        format_share_change(now["recurrence_rate"], _before("recurrence_rate"), points),
        "inverse",
    ),
    (
        "success_rate",
        format_percent(now["success_rate"]),
        format_share_change(now["success_rate"], _before("success_rate"), points),
        "normal",
    ),
]
for row in (tiles[:4], tiles[4:]):
    for column, (name, value, delta, colour) in zip(st.columns(4), row, strict=True):
        column.metric(
            texts.text(f"kpi.{name}"),
            value,
            delta=delta,
            delta_color=colour,
            border=True,
            # every KPI says what it counts, in the words the merchant files use too
            help=texts.text(f"kpi.help_{name}"),
        )
comparison = "kpi.vs_last_week_same_age" if provisional else "kpi.vs_last_week"
st.caption(texts.text(comparison, week=previous_week(filters.week)))

# ---- trend and type share
left, right = st.columns([3, 2])
with left:
    st.subheader(texts.text("weekly.trend"))
    trend = data.family_trend(filters, tuple(trailing_weeks(filters.week, 12)))
    if trend.empty:
        st.info(texts.text("empty.no_rows"))
    else:
        st.plotly_chart(charts.family_trend(trend, texts), key="trend")
        if trend["is_provisional"].any():
            st.caption(texts.text("weekly.trend_provisional"))
with right:
    st.subheader(texts.text("weekly.type_share"))
    if not ui.missing(texts, "rpt_weekly_exception_summary"):
        shares = data.type_share(filters)
        if shares.empty:
            st.info(texts.text("empty.no_rows"))
        else:
            st.plotly_chart(charts.type_share(shares, texts), key="type_share")

# ---- which rules could judge this week's orders
if not data.missing_marts("rpt_exception_coverage", "dim_exception_types"):
    covered = data.coverage(filters)
    partial = covered[covered["assessed_share"] < 1]
    if partial.empty:
        st.caption(texts.text("weekly.coverage_full"))
    else:
        with st.expander(texts.text("weekly.coverage", count=len(partial)), expanded=True):
            st.caption(texts.text("weekly.coverage_caption"))
            shown = ["exception_type", "family", "orders", "orders_assessed", "assessed_share"]
            ui.table(
                partial[shown],
                texts,
                f"coverage_{filters.week}",
                key="coverage_table",
                percents=("assessed_share",),
            )


def chart_and_table(
    frame,
    chart,
    *,
    key: str,
    caption: str,
    empty: str = "empty.no_rows",
    file_name: str = "",
    **table_options,
) -> None:
    """A panel: its chart and the same rows as a table to download, or why there is none."""
    if frame.empty:
        st.info(texts.text(empty))
        return
    st.caption(caption)
    st.plotly_chart(chart(frame, texts), key=key)
    name = f"{file_name or key}_{filters.week}"
    ui.table(frame, texts, name, key=f"{key}_table", **table_options)


# ---- first response against the service level
st.subheader(texts.text("weekly.handling"))
chart_and_table(
    data.handling_by_type(filters),
    charts.response_against_sla,
    key="handling",
    caption=texts.text("weekly.handling_caption"),
    hours=("median_response_hours", "p90_response_hours", "sla_hours", "median_resolution_hours"),
    percents=("sla_met_share",),
)

# ---- root causes, who owns them and what to do
st.subheader(texts.text("weekly.pareto"))
chart_and_table(
    data.root_cause_pareto(filters),
    charts.root_cause_pareto,
    key="pareto",
    file_name="root_causes",
    caption=texts.text("weekly.pareto_caption"),
    percents=("share", "cumulative_share"),
)

# ---- what changed
st.subheader(texts.text("weekly.what_changed"))
if not ui.missing(texts, "dim_exception_types"):
    same_age = "_same_age" if provisional else ""
    chart_and_table(
        data.what_changed(filters),
        charts.what_changed,
        key="what_changed",
        empty="weekly.nothing_changed",
        caption=texts.text(f"weekly.what_changed_caption{same_age}"),
        percents=("contribution_share",),
    )

# ---- special requests: work to do, not failures
st.subheader(texts.text("weekly.special_requests"))
requests = data.special_requests(filters)
if requests.empty:
    st.info(texts.text("weekly.no_special_requests"))
else:
    st.caption(texts.text("weekly.special_requests_caption"))
    total, within = st.columns(2)
    total.metric(texts.text("kpi.special_requests"), format_count(requests["exceptions"].sum()))
    met = (requests["sla_met_share"] * requests["exceptions"]).sum() / requests["exceptions"].sum()
    within.metric(texts.text("kpi.special_requests_within_sla"), format_percent(met))
    ui.table(
        requests,
        texts,
        f"special_requests_{filters.week}",
        key="special_requests_table",
        hours=("median_response_hours", "sla_hours"),
        percents=("sla_met_share",),
    )
