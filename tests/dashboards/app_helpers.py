"""Small helpers for reading what an AppTest run shows."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"


def assert_no_exception(app: AppTest) -> None:
    assert not app.exception, [error.value for error in app.exception]


def metrics(app: AppTest) -> dict[str, tuple[str, str]]:
    """Tile label -> (value, change) as shown."""
    return {tile.label: (tile.value, tile.delta) for tile in app.metric}


def shown_texts(elements) -> list[str]:
    return [str(element.value) for element in elements]


def table_with(app: AppTest, *columns: str, without: tuple[str, ...] = ()):
    """The first table shown that has all these (displayed) column headers and none of
    `without`."""
    for table in app.dataframe:
        headers = set(table.value.columns)
        if set(columns) <= headers and not headers & set(without):
            return table.value
    shown = [list(table.value.columns) for table in app.dataframe]
    raise AssertionError(f"no table with columns {columns}; tables shown: {shown}")
