"""Write each table as one file per day: inbox/<domain>/<table>_<YYYY-MM-DD>.<csv|parquet>.

Files are byte-for-byte reproducible: rows in a fixed order, no write time inside.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipelines.contract import load_contract
from pipelines.generator.bad_rows import Insertions, as_text
from pipelines.generator.tables import DatedTable

EPOCH = dt.date(1970, 1, 1)


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary-encoded columns as plain values: files carry the contract's types."""
    for position, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(
                position, field.name, table.column(position).cast(field.type.value_type)
            )
    return table


def _write(table: pa.Table, path: Path, file_format: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = _plain(table)
    if file_format == "csv":
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
    else:
        pq.write_table(table, path)


def _with_insertions(
    table: pa.Table, first_row: int, insertions: Insertions, chosen: np.ndarray
) -> pa.Table:
    """Real rows keep their order; each extra row lands right after the row it follows."""
    extra = insertions.rows.take(pa.array(chosen))
    combined = pa.concat_tables([as_text(table), extra])
    position = np.concatenate(
        [np.arange(table.num_rows) * 2, (insertions.after_row[chosen] - first_row) * 2 + 1]
    )
    return combined.take(pa.array(np.argsort(position, kind="stable")))


def write_daily_files(
    dated: DatedTable, inbox: Path, file_format: str, insertions: Insertions | None = None
) -> list[Path]:
    domain = load_contract()[dated.name].domain
    if len(dated.day) == 0:
        return []  # a day without rows gets no file, and so does a table without any
    # Rows are sorted by day: a file starts wherever the day changes.
    starts = np.concatenate([[0], np.flatnonzero(np.diff(dated.day)) + 1])
    ends = np.append(starts[1:], len(dated.day))
    days = dated.day[starts]
    written = []
    for day, start, end in zip(days.tolist(), starts.tolist(), ends.tolist(), strict=True):
        table = dated.table.slice(start, end - start)
        if insertions is not None:
            chosen = np.flatnonzero((insertions.after_row >= start) & (insertions.after_row < end))
            if len(chosen):
                table = _with_insertions(table, start, insertions, chosen)
        date = EPOCH + dt.timedelta(days=day)
        path = inbox / domain / f"{dated.name}_{date.isoformat()}.{file_format}"
        _write(table, path, file_format)
        written.append(path)
    return written
