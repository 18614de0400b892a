"""Root-cause explorer: where a family or sub-type comes from, what keeps recurring, and
a way down to the exceptions themselves."""

import streamlit as st

from dashboards import data, ui
from dashboards.components import charts
from dashboards.components.formatting import trailing_weeks
from dashboards.components.theme import FAMILIES

DRILL_KEY = "drill"

texts = ui.catalogue()
filters = ui.current_filters()
st.title(texts.text("explorer.title"))

if filters is None:
    ui.no_filters(texts)
    st.stop()
if ui.missing(texts, "fct_order_exceptions", "dim_exception_types", "rpt_recurring_issues"):
    st.stop()

# ---- what to look at
types = data.exception_types()
pick_family, pick_types, pick_dimension, pick_period = st.columns([2, 3, 2, 2])
family = pick_family.selectbox(
    texts.text("explorer.family"),
    options=["", *FAMILIES],
    key="explorer_family",
    format_func=lambda code: (
        texts.name("family", code) if code else texts.text("explorer.all_families")
    ),
)
type_options = types.loc[(types["family"] == family) | (family == ""), "exception_type"].tolist()
chosen_types = pick_types.multiselect(
    texts.text("explorer.exception_types"),
    options=type_options,
    key="explorer_types",
    format_func=lambda code: texts.name("exception_type", code),
    placeholder=texts.text("sidebar.all"),
)
dimension = pick_dimension.selectbox(
    texts.text("explorer.dimension"),
    options=list(data.DIMENSION_COLUMNS),
    key="explorer_dimension",
    format_func=lambda code: texts.name("dimension", code),
)
period = pick_period.radio(
    texts.text("explorer.period"),
    options=["week", "12_weeks"],
    key="explorer_period",
    format_func=lambda code: texts.text(f"explorer.period_{code}"),
    horizontal=True,
)
weeks_shown = (filters.week,) if period == "week" else tuple(trailing_weeks(filters.week, 12))
focus = data.Focus(families=(family,) if family else (), exception_types=tuple(chosen_types))
dimension_name = texts.name("dimension", dimension)


def drill_into(value: object) -> None:
    """Open the exception list on the exceptions of this dimension value."""
    st.session_state[DRILL_KEY] = data.Focus(
        families=focus.families,
        exception_types=focus.exception_types,
        dimension=dimension,
        dimension_value=value,
    )
    st.session_state["list_all_weeks"] = period != "week"
    st.switch_page("app_pages/exception_list.py")


# ---- the sub-types in focus: who owns their cause, and how many orders their rule could judge
if not data.missing_marts("rpt_exception_coverage"):
    overview = data.subtype_overview(filters, weeks_shown)
    if family:
        overview = overview[overview["family"] == family]
    if chosen_types:
        overview = overview[overview["exception_type"].isin(chosen_types)]
    st.subheader(texts.text("explorer.subtypes"))
    st.caption(texts.text("explorer.subtypes_caption"))
    ui.table(
        overview,
        texts,
        f"subtypes_{filters.week}",
        key="subtypes_table",
        percents=("assessed_share",),
    )

# ---- sub-type x dimension
cells = data.dimension_breakdown(filters, focus, dimension, weeks_shown)
if cells.empty:
    st.info(texts.text("empty.no_rows"))
else:
    st.subheader(texts.text("explorer.heatmap", dimension=dimension_name))
    measure = "exceptions"
    if dimension in data.RATE_DIMENSIONS:
        # a carrier with many exceptions may just carry many orders: the rate tells them apart
        measure = st.radio(
            texts.text("explorer.measure"),
            options=["exceptions", "per_thousand"],
            key="explorer_measure",
            format_func=lambda code: texts.text(f"explorer.measure_{code}"),
            horizontal=True,
        )
    else:
        st.caption(texts.text("explorer.rate_not_for_sku"))
    shown_cells = cells
    if measure == "per_thousand":
        orders = data.orders_by_dimension(filters, dimension, weeks_shown)
        shown_cells = cells.merge(orders, on="dimension_value", how="left")
        shown_cells["per_thousand"] = shown_cells["exceptions"] / shown_cells["orders"] * 1000
    st.plotly_chart(charts.dimension_heatmap(shown_cells, dimension, texts, measure), key="heatmap")

    st.subheader(texts.text("explorer.by_dimension", dimension=dimension_name))
    totals = cells.groupby(["dimension_value", "family"], as_index=False)["exceptions"].sum()
    selection = st.plotly_chart(
        charts.dimension_bars(totals, dimension, texts),
        key="dimension_bars",
        on_select="rerun",
        selection_mode="points",
    )
    # Clicking a bar pre-selects that value in the drill box below.
    clicked = [
        point.get("customdata")
        for point in (selection.selection.points or [])
        if point.get("customdata") is not None
    ]
    values = (
        totals.groupby("dimension_value")["exceptions"]
        .sum()
        .sort_values(ascending=False)
        .index.tolist()
    )
    # A click on a bar opens that value's exceptions at once. The chart keeps its selection
    # when the user comes back, so only a click not yet followed drills; the box and button
    # below reach any value again (and the same bar twice).
    new_click = (dimension, clicked[0]) if clicked and clicked[0] in values else None
    if new_click is not None and st.session_state.get("explorer_last_click") != new_click:
        st.session_state["explorer_last_click"] = new_click
        drill_into(new_click[1])
    drill_value_box, drill_button_box = st.columns([3, 1], vertical_alignment="bottom")
    drill_value = drill_value_box.selectbox(
        texts.text("explorer.drill_value"),
        options=values,
        key="explorer_drill_value",
        format_func=lambda value: charts.value_name(texts, dimension, value),
    )
    if drill_button_box.button(
        texts.text("explorer.drill_button"), key="drill_button", type="primary"
    ):
        drill_into(drill_value)

# ---- what keeps coming back
st.subheader(texts.text("explorer.recurring"))
st.caption(texts.text("explorer.recurring_caption"))
recurring = data.recurring_issues(filters, focus, weeks_shown)
if recurring.empty:
    st.info(texts.text("empty.no_rows"))
else:
    ui.table(
        recurring,
        texts,
        f"recurring_{filters.week}",
        key="recurring_table",
        times=("first_detected_at", "last_detected_at"),
    )
