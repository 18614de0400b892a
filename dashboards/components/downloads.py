"""Table downloads: CSV that Excel opens with Chinese intact, and a real XLSX.

Both carry text from partners' exports (order ids, addresses, notes). A cell that starts
with = + - @ or a tab is a formula to Excel and LibreOffice, so `=HYPERLINK(...)` in a
receiver's address would run on the manager's machine: such text is written as text."""

from __future__ import annotations

import io

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defused(value: object) -> object:
    """Text that a spreadsheet would read as a formula, prefixed with an apostrophe (the
    spreadsheet convention for 'this is text'); numbers and everything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _text_defused(frame: pd.DataFrame) -> pd.DataFrame:
    text_columns = [
        c
        for c in frame.columns
        if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])
    ]
    if not text_columns:
        return frame
    safe = frame.copy()
    for column in text_columns:
        safe[column] = safe[column].astype(object).map(defused)
    return safe


def csv_bytes(frame: pd.DataFrame) -> bytes:
    # The byte-order mark makes Excel on Windows read UTF-8 instead of GBK.
    return _text_defused(frame).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, sheet_name: str = "data") -> bytes:
    buffer = io.BytesIO()
    safe_sheet = "".join(ch for ch in sheet_name if ch not in "[]:*?/\\")[:31] or "data"
    # Strings stay strings: no formulas, links or numbers guessed from text.
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    with pd.ExcelWriter(buffer, engine="xlsxwriter", engine_kwargs={"options": options}) as writer:
        frame.to_excel(writer, sheet_name=safe_sheet, index=False)
        sheet = writer.sheets[safe_sheet]
        for position, column in enumerate(frame.columns):
            values = [*frame[column].astype(str).head(200).tolist(), str(column)]
            sheet.set_column(position, position, min(60, max(len(v) for v in values) + 2))
        sheet.freeze_panes(1, 0)
    return buffer.getvalue()
