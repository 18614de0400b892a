"""Streamlit pieces every page shares: the language, the sidebar's filters, tables with
downloads and empty states. Pages call these; they never read session state by hand."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.components.downloads import csv_bytes, xlsx_bytes
from dashboards.i18n import LANGUAGE_NAMES, Catalogue, configured_language
from pipelines import settings

LANGUAGE_KEY = "language"
FILTERS_KEY = "filters"
URL_READ_KEY = "url_read"
# The sidebar's choices in the address bar, so a manager can send the exact view: query
# parameter -> session state key (lists repeat the parameter: ?merchant=M001&merchant=M002).
URL_LISTS = {"merchant": "merchants", "warehouse": "warehouses", "channel": "channels"}


def read_url_once() -> None:
    """At a session's first run, take the view the address says (language, week, filters);
    what it names that the data does not have is left out by the pickers."""
    if st.session_state.get(URL_READ_KEY):
        return
    st.session_state[URL_READ_KEY] = True
    params = st.query_params
    if params.get("lang") in LANGUAGE_NAMES:
        st.session_state[LANGUAGE_KEY] = params["lang"]
    if params.get("week"):
        st.session_state["week"] = params["week"]
    for name, key in URL_LISTS.items():
        if params.get_all(name):
            st.session_state[key] = params.get_all(name)


def write_url(filters: data.Filters, language: str) -> None:
    """Keep the address in step with the view."""
    wanted = {
        "lang": language,
        "week": filters.week,
        "merchant": list(filters.merchants),
        "warehouse": list(filters.warehouses),
        "channel": list(filters.channels),
    }
    wanted = {key: value for key, value in wanted.items() if value}
    if {key: st.query_params.get_all(key) for key in wanted} != {
        key: value if isinstance(value, list) else [value] for key, value in wanted.items()
    } or set(st.query_params) - set(wanted):
        st.query_params.from_dict(wanted)


def catalogue() -> Catalogue:
    if LANGUAGE_KEY not in st.session_state:
        st.session_state[LANGUAGE_KEY] = configured_language()
    return Catalogue(st.session_state[LANGUAGE_KEY])


def language_picker() -> Catalogue:
    read_url_once()
    texts = catalogue()
    st.sidebar.selectbox(
        texts.text("sidebar.language"),
        options=list(LANGUAGE_NAMES),
        format_func=LANGUAGE_NAMES.get,
        key=LANGUAGE_KEY,
    )
    return catalogue()


def sidebar_filters(texts: Catalogue) -> data.Filters | None:
    """Week, merchant, warehouse and channel pickers; None when the marts are not there."""
    if data.missing_marts("rpt_weekly_kpis", "fct_orders", "fct_order_exceptions"):
        st.session_state[FILTERS_KEY] = None
        return None
    weeks = data.weeks()
    if not weeks.available:
        st.session_state[FILTERS_KEY] = None
        return None
    sidebar = st.sidebar
    sidebar.header(texts.text("sidebar.filters"))
    # A week chosen earlier may be gone after a pipeline run; fall back to the default.
    if st.session_state.get("week") not in weeks.available:
        st.session_state["week"] = weeks.default
    week = sidebar.selectbox(
        texts.text("sidebar.week"),
        options=list(weeks.available),
        key="week",
        format_func=lambda code: (
            texts.text("sidebar.week_provisional", week=code)
            if weeks.is_provisional(code)
            else code
        ),
    )
    if weeks.provisional:
        sidebar.caption(
            texts.text(
                "sidebar.week_incomplete",
                weeks=", ".join(sorted(weeks.provisional)),
                week=weeks.default,
            )
        )
    choices = data.filter_choices()
    merchant_names = dict(
        zip(choices["merchants"]["merchant_id"], choices["merchants"]["merchant_name"], strict=True)
    )
    merchants = _multiselect(
        texts.text("sidebar.merchant"), list(merchant_names), "merchants", merchant_names.get, texts
    )
    warehouses = _multiselect(
        texts.text("sidebar.warehouse"),
        choices["warehouses"]["warehouse_id"].tolist(),
        "warehouses",
        str,
        texts,
    )
    channels = _multiselect(
        texts.text("sidebar.channel"),
        choices["channels"]["channel"].tolist(),
        "channels",
        lambda code: texts.name("channel", code),
        texts,
    )
    filters = data.Filters(week, tuple(merchants), tuple(warehouses), tuple(channels))
    st.session_state[FILTERS_KEY] = filters
    write_url(filters, texts.language)
    sidebar.caption(
        texts.text(
            "app.caption", marts_dir=data.marts_dir_label(), timezone=settings.reporting_timezone()
        )
    )
    return filters


def _multiselect(label: str, options: list[str], key: str, names, texts: Catalogue) -> list[str]:
    kept = [value for value in st.session_state.get(key, []) if value in options]
    if kept != st.session_state.get(key, []):
        st.session_state[key] = kept
    return st.sidebar.multiselect(
        label, options=options, format_func=names, key=key, placeholder=texts.text("sidebar.all")
    )


MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """Text from the data, safe inside Streamlit markdown (titles, captions, info boxes): an
    order id like `![x](http://evil)` stays those characters, not an image or a link."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def _is_text(column: pd.Series) -> bool:
    """Text cells: an empty one shows empty, not "None" (a resolution not reached yet)."""
    return pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)


def current_filters() -> data.Filters | None:
    return st.session_state.get(FILTERS_KEY)


def missing(texts: Catalogue, *marts: str) -> bool:
    """Say which marts are missing and how to get them; True when something is missing."""
    absent = data.missing_marts(*marts)
    if absent:
        st.info(
            texts.text(
                "empty.missing_marts", names=", ".join(absent), marts_dir=data.marts_dir_label()
            ),
            icon=":material/info:",
        )
    return bool(absent)


def no_filters(texts: Catalogue) -> None:
    st.info(
        texts.text(
            "empty.missing_marts",
            names=", ".join(
                data.missing_marts("rpt_weekly_kpis", "fct_orders", "fct_order_exceptions")
            )
            or texts.text("empty.no_weeks"),
            marts_dir=data.marts_dir_label(),
        ),
        icon=":material/info:",
    )


def table(
    frame: pd.DataFrame,
    texts: Catalogue,
    name: str,
    *,
    key: str,
    percents: tuple[str, ...] = (),
    hours: tuple[str, ...] = (),
    times: tuple[str, ...] = (),
    dates: tuple[str, ...] = (),
    numbers: tuple[str, ...] = (),
    selectable: bool = False,
    height: int | str = "auto",
):
    """A table for people with CSV and XLSX downloads.

    Codes are named and headers translated; shares (0..1) in `percents` show as '12.3%',
    `hours` and `numbers` with one decimal, `times` to the minute, `dates` as days, whole
    numbers with thousands separators.
    The downloads keep shares as fractions so spreadsheets can compute with them. Returns the
    selection event when `selectable`.
    """
    downloaded = texts.localise(frame)
    shown = downloaded.copy()
    config = {}
    for column in frame.columns:
        header = texts.column(column)
        if column in percents:
            shown[header] = frame[column] * 100
            config[header] = st.column_config.NumberColumn(header, format="%.1f%%")
        elif column in hours or column in numbers:
            config[header] = st.column_config.NumberColumn(header, format="%.1f")
        elif column in times:
            config[header] = st.column_config.DatetimeColumn(header, format="YYYY-MM-DD HH:mm")
        elif column in dates:
            config[header] = st.column_config.DateColumn(header, format="YYYY-MM-DD")
        elif pd.api.types.is_integer_dtype(frame[column]) and column != "rank":
            config[header] = st.column_config.NumberColumn(header, format="localized")
        elif _is_text(shown[header]):
            shown[header] = shown[header].astype(object).where(shown[header].notna(), "")
    if height == "auto" and len(shown) <= 25:
        # Short tables show every row instead of a scroll box of ten.
        height = (len(shown) + 1) * 35 + 3
    options = {"hide_index": True, "column_config": config, "height": height}
    if selectable:
        event = st.dataframe(
            shown, key=key, on_select="rerun", selection_mode="single-row", **options
        )
    else:
        event = st.dataframe(shown, key=key, **options)
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        texts.text("download.csv"),
        data=lambda: csv_bytes(downloaded),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
        icon=":material/download:",
    )
    right.download_button(
        texts.text("download.xlsx"),
        data=lambda: xlsx_bytes(downloaded, name),
        file_name=f"{name}.xlsx",
        key=f"{key}_xlsx",
        on_click="ignore",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
    )
    return event
