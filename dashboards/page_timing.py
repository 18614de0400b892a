"""Server-side time of each dashboard page on a set of marts, for the benchmark.

`python -m dashboards.page_timing MARTS_DIR` runs every page headless (Streamlit's AppTest:
the page script with its queries, no browser), first with empty caches ("cold", what the first
visitor after a pipeline run waits) and then again ("warm"), and prints seconds per page.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent / "streamlit_app.py"
PAGES = {
    "weekly_review": "app_pages/weekly_review.py",
    "root_causes": "app_pages/root_causes.py",
    "exception_list": "app_pages/exception_list.py",
    "data_health": "app_pages/data_health.py",
}


def time_pages(marts_dir: Path, order_id: str | None = None) -> dict[str, dict[str, float]]:
    """Seconds per page, cold and warm. With `order_id`, the exception list also draws that
    order's timeline."""
    os.environ["OEX_MARTS"] = str(marts_dir)
    timings: dict[str, dict[str, float]] = {}
    for name, page in PAGES.items():
        app = AppTest.from_file(str(APP), default_timeout=600)
        app.run()  # opens the default page; its cached results must not help the next one
        app.switch_page(page)
        if order_id and name == "exception_list":
            app.session_state["order_id"] = order_id
        st.cache_data.clear()
        results = {}
        for label in ("cold", "warm"):
            started = time.perf_counter()
            app.run()
            results[label] = round(time.perf_counter() - started, 3)
            if app.exception:
                raise RuntimeError(f"{name}: {app.exception[0].value}")
        timings[name] = results
    return timings


if __name__ == "__main__":
    arguments = sys.argv[1:]
    print(
        json.dumps(
            time_pages(Path(arguments[0]), arguments[1] if len(arguments) > 1 else None), indent=2
        )
    )
