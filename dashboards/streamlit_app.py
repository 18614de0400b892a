"""The weekly review dashboard: routes to the pages and draws the shared sidebar.

Run with `oex dashboard` (or `streamlit run dashboards/streamlit_app.py`). It reads only the
Parquet marts in settings.marts_dir() (env OEX_MARTS); the language defaults to OEX_LANGUAGE.
"""

import sys
from pathlib import Path

import streamlit as st

# `streamlit run` puts this folder on sys.path, not the project root the packages live in.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from dashboards import ui  # noqa: E402

st.set_page_config(page_title="Order exceptions · 订单异常", page_icon="📦", layout="wide")

texts = ui.language_picker()
pages = [
    st.Page(
        "app_pages/weekly_review.py",
        title=texts.text("page.weekly_review"),
        icon=":material/insights:",
        url_path="weekly-review",
        default=True,
    ),
    st.Page(
        "app_pages/root_causes.py",
        title=texts.text("page.root_causes"),
        icon=":material/troubleshoot:",
        url_path="root-causes",
    ),
    st.Page(
        "app_pages/exception_list.py",
        title=texts.text("page.exception_list"),
        icon=":material/list_alt:",
        url_path="exceptions",
    ),
    st.Page(
        "app_pages/risk_watch.py",
        title=texts.text("page.risk_watch"),
        icon=":material/warning:",
        url_path="risk-watch",
    ),
    st.Page(
        "app_pages/data_health.py",
        title=texts.text("page.data_health"),
        icon=":material/health_and_safety:",
        url_path="data-health",
    ),
]
page = st.navigation(pages)
ui.sidebar_filters(texts)
page.run()
