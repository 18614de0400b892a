"""Exception list and order timeline: the cases behind the numbers, open and overdue first;
pick one to see everything that happened to its order."""

import streamlit as st

from dashboards import data, ui
from dashboards.components import charts
from dashboards.components.theme import FAMILIES

DRILL_KEY = "drill"

texts = ui.catalogue()
filters = ui.current_filters()
st.title(texts.text("list.title"))

if filters is None:
    ui.no_filters(texts)
    st.stop()
if ui.missing(texts, "fct_order_exceptions", "fct_order_timeline"):
    st.stop()

# ---- narrowing down
drill: data.Focus | None = st.session_state.get(DRILL_KEY)
if drill is not None and drill.dimension:
    chip, clear = st.columns([4, 1], vertical_alignment="center")
    chip.info(
        texts.text(
            "list.drill_active",
            dimension=texts.name("dimension", drill.dimension),
            value=ui.plain(charts.value_name(texts, drill.dimension, drill.dimension_value)),
        )
    )
    if clear.button(texts.text("list.clear_drill"), key="clear_drill"):
        del st.session_state[DRILL_KEY]
        st.rerun()

types = data.exception_types() if not data.missing_marts("dim_exception_types") else None
pick_family, pick_types, pick_status, pick_weeks = st.columns(
    [2, 3, 2, 2], vertical_alignment="bottom"
)
families = pick_family.multiselect(
    texts.text("explorer.family"),
    options=list(FAMILIES),
    key="list_families",
    default=list(drill.families) if drill else None,
    format_func=lambda code: texts.name("family", code),
    placeholder=texts.text("sidebar.all"),
)
type_options = (
    []
    if types is None
    else types.loc[types["family"].isin(families) | (not families), "exception_type"].tolist()
)
chosen_types = pick_types.multiselect(
    texts.text("explorer.exception_types"),
    options=type_options,
    key="list_types",
    default=[code for code in drill.exception_types if code in type_options] if drill else None,
    format_func=lambda code: texts.name("exception_type", code),
    placeholder=texts.text("sidebar.all"),
)
status = pick_status.selectbox(
    texts.text("list.status"),
    options=list(data.STATUSES),
    key="list_status",
    format_func=lambda code: texts.text(f"list.status_{code}"),
)
all_weeks = pick_weeks.toggle(texts.text("list.all_weeks"), key="list_all_weeks")

focus = data.Focus(
    families=tuple(families),
    exception_types=tuple(chosen_types),
    dimension=drill.dimension if drill else None,
    dimension_value=drill.dimension_value if drill else None,
)
page = data.exception_list(filters, focus, status=status, all_weeks=all_weeks)

# ---- the list
if page.rows.empty:
    st.info(texts.text("empty.no_rows"))
    selected_order = None
else:
    st.caption(texts.text("list.shown", total=f"{page.total:,}", shown=f"{len(page.rows):,}"))
    event = ui.table(
        page.rows,
        texts,
        f"exceptions_{filters.week}",
        key="exception_table",
        selectable=True,
        height=420,
        times=("detected_at", "first_response_at", "resolved_at"),
        hours=("handling_hours", "sla_hours"),
    )
    rows = event.selection.rows if event is not None else []
    selected_order = page.rows["order_id"].iloc[rows[0]] if rows else None

# ---- one order, start to finish
typed_order = st.text_input(texts.text("list.order_id"), key="order_id").strip()
order_id = selected_order or typed_order or None
if order_id is None:
    st.caption(texts.text("empty.no_order"))
    st.stop()

st.subheader(texts.text("list.timeline", order_id=ui.plain(order_id)))
timeline = data.order_timeline(order_id)
if timeline.empty:
    st.info(texts.text("empty.order_not_found", order_id=ui.plain(order_id)))
else:
    st.plotly_chart(charts.order_timeline(timeline, texts), key="timeline_chart")
    ui.table(timeline, texts, f"timeline_{order_id}", key="timeline_table", times=("occurred_at",))

exceptions = data.order_exceptions(order_id)
if not exceptions.empty:
    st.subheader(texts.text("list.order_exceptions"))
    ui.table(
        exceptions,
        texts,
        f"order_exceptions_{order_id}",
        key="order_exceptions_table",
        times=("detected_at", "first_response_at", "resolved_at"),
        hours=("handling_hours", "sla_hours"),
    )
