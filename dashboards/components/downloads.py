"""Table downloads: CSV that Excel opens with Chinese intact, and a real XLSX."""

from __future__ import annotations

import io

import pandas as pd


def csv_bytes(frame: pd.DataFrame) -> bytes:
    # The byte-order mark makes Excel on Windows read UTF-8 instead of GBK.
    return frame.to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, sheet_name: str = "data") -> bytes:
    buffer = io.BytesIO()
    safe_sheet = "".join(ch for ch in sheet_name if ch not in "[]:*?/\\")[:31] or "data"
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        frame.to_excel(writer, sheet_name=safe_sheet, index=False)
        sheet = writer.sheets[safe_sheet]
        for position, column in enumerate(frame.columns):
            values = [*frame[column].astype(str).head(200).tolist(), str(column)]
            sheet.set_column(position, position, min(60, max(len(v) for v in values) + 2))
        sheet.freeze_panes(1, 0)
    return buffer.getvalue()
