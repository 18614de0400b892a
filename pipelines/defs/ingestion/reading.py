"""Reading inbox files into text columns, whatever their format and encoding.

Everything is read as text (Parquet excepted, it carries its own types) so that a wrong value
is caught by the contract checks on its own row instead of crashing the whole file. Each data
row keeps the line number a person would look up in the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

SUPPORTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".jsonl", ".ndjson", ".parquet")
# GBK and GB2312 are subsets of GB18030, so one decoder reads all three.
GB_FAMILY = {"gbk", "gb2312", "gb18030", "cp936"}
HEADER_SEARCH_ROWS = 20


class UnreadableFileError(Exception):
    """The file cannot be read at all; the message says why in plain words."""


@dataclass(frozen=True)
class MalformedRow:
    """A row that could not even be split into columns (truncated line, broken JSON)."""

    line: int
    reason: str
    record: dict


@dataclass
class SourceRows:
    headers: list[str]  # as written in the file
    data: pa.Table  # columns c0..cN, one per header, in file order
    lines: np.ndarray  # the file line (or sheet row) of each data row
    encoding: str | None = None
    malformed: list[MalformedRow] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.data.num_rows + len(self.malformed)


def positional_names(count: int) -> list[str]:
    # Safe SQL identifiers whatever the headers say; the headers travel as parameters.
    return [f"c{index}" for index in range(count)]


def _empty(headers: list[str], encoding: str | None = None) -> SourceRows:
    names = positional_names(len(headers))
    table = pa.table({name: pa.array([], pa.string()) for name in names})
    return SourceRows(headers, table, np.array([], dtype=np.int64), encoding)


def find_header_row(rows: list[list[object]], expected: set[str]) -> int:
    """Index of the first row that holds the expected header names (title rows come above it)."""
    folded = {name.casefold() for name in expected}
    needed = min(2, len(folded))
    for index, row in enumerate(rows):
        cells = {str(cell).strip().casefold() for cell in row if cell is not None}
        if len(cells & folded) >= needed:
            return index
    return next((index for index, row in enumerate(rows) if any(row)), 0)


def decode(data: bytes, hint: str | None) -> tuple[bytes, str]:
    """UTF-8 bytes of the file and the encoding it was written in.

    Detected, not guessed: a BOM decides; otherwise strict UTF-8 is tried before anything
    else, because Chinese UTF-8 text would also decode (as nonsense) under GB18030.
    """
    if data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8) :]
        _strict_decode(body, "utf-8")
        return body, "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFileError(
            "the file is UTF-16; save it as UTF-8 or GBK CSV and deliver it again"
        )
    hinted = "gb18030" if hint and hint.lower() in GB_FAMILY else hint
    candidates = dict.fromkeys(e for e in ("utf-8", hinted, "gb18030") if e)
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        return (data if encoding == "utf-8" else text.encode("utf-8")), encoding
    _strict_decode(data, "gb18030")
    raise UnreadableFileError("the file's encoding could not be read")  # unreachable in practice


def _strict_decode(data: bytes, encoding: str) -> None:
    try:
        data.decode(encoding)
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 4].hex(" ")
        raise UnreadableFileError(
            f"the file is neither UTF-8 nor GBK/GB18030 text: bytes {bad} at offset "
            f"{error.start} cannot be decoded; export it again as UTF-8 or GBK CSV"
        ) from error


def read_csv(data: bytes, expected: set[str], hint: str | None) -> SourceRows:
    body, encoding = decode(data, hint)
    head_lines = body[:65536].decode("utf-8", errors="ignore").splitlines()[:HEADER_SEARCH_ROWS]
    head_rows = list(csv.reader(head_lines))
    if not any(head_rows):
        return _empty([], encoding)
    header_index = find_header_row(head_rows, expected)
    headers = [cell.strip() for cell in head_rows[header_index]]
    names = positional_names(len(headers))

    def parse(use_threads: bool) -> tuple[pa.Table, list]:
        invalid: list = []

        def keep_invalid(row) -> str:
            invalid.append(row)
            return "skip"

        table = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=header_index + 1, use_threads=use_threads
            ),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=keep_invalid
            ),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
        )
        return table, invalid

    table, invalid = parse(use_threads=True)
    if invalid:
        # Only a single-threaded read reports line numbers; rows with missing fields are rare.
        table, invalid = parse(use_threads=False)
    malformed = [_short_row(row, headers) for row in invalid]
    skipped = np.array(sorted(row.line for row in malformed), dtype=np.int64)
    first_data_line = header_index + 2
    candidates = np.arange(first_data_line, first_data_line + table.num_rows + len(skipped))
    lines = candidates[~np.isin(candidates, skipped)][: table.num_rows]
    return SourceRows(headers, table, lines.astype(np.int64), encoding, malformed)


def _short_row(row, headers: list[str]) -> MalformedRow:
    fields = next(csv.reader([row.text]), [])
    kind = "fewer" if row.actual_columns < row.expected_columns else "more"
    reason = (
        f"the line has {kind} fields ({row.actual_columns}) than the header "
        f"({row.expected_columns}); it is cut off or has a stray separator"
    )
    record = dict(zip(headers, fields, strict=False))
    if len(fields) > len(headers):
        record["_extra_fields"] = fields[len(headers) :]
    return MalformedRow(int(row.number), reason, record)


def cell_text(value: object) -> str | None:
    """An Excel cell as the text a CSV export would have held."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 3 as 3.0 and a phone number as a float
    return str(value)


def read_xlsx(path: Path, expected: set[str]) -> SourceRows:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        raise UnreadableFileError(f"not a readable XLSX workbook ({error})") from error
    try:
        rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    finally:
        workbook.close()
    if not any(any(cell is not None for cell in row) for row in rows):
        return _empty([])
    header_index = find_header_row(rows[:HEADER_SEARCH_ROWS], expected)
    headers = [
        cell_text(cell) or f"column_{index + 1}" for index, cell in enumerate(rows[header_index])
    ]
    names = positional_names(len(headers))
    body = [
        (header_index + 2 + offset, row)
        for offset, row in enumerate(rows[header_index + 1 :])
        if any(cell is not None and str(cell).strip() for cell in row)  # blank rows are not rows
    ]
    columns = {
        name: pa.array(
            [cell_text(row[i]) if i < len(row) else None for _, row in body], pa.string()
        )
        for i, name in enumerate(names)
    }
    lines = np.array([line for line, _ in body], dtype=np.int64)
    return SourceRows(headers, pa.table(columns), lines)


def read_json_lines(data: bytes, hint: str | None) -> SourceRows:
    body, encoding = decode(data, hint)
    headers: dict[str, None] = {}
    records: list[tuple[int, dict]] = []
    malformed: list[MalformedRow] = []
    for number, text in enumerate(io.StringIO(body.decode("utf-8")), start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            reason = f"the line is not valid JSON ({error.msg} at character {error.pos + 1})"
            malformed.append(MalformedRow(number, reason, {"_raw_line": text.rstrip("\n")}))
            continue
        if not isinstance(record, dict):
            reason = "the line is JSON but not an object of column: value pairs"
            malformed.append(MalformedRow(number, reason, {"_raw_line": text.rstrip("\n")}))
            continue
        headers.update(dict.fromkeys(record))
        records.append((number, record))
    header_list = list(headers)
    columns = {
        name: pa.array([_json_text(record.get(header)) for _, record in records], pa.string())
        for name, header in zip(positional_names(len(header_list)), header_list, strict=True)
    }
    lines = np.array([number for number, _ in records], dtype=np.int64)
    table = pa.table(columns) if columns else pa.table({})
    if not columns and records:  # objects without keys: count them as rows with no values
        table = pa.table({"c0": pa.array([None] * len(records), pa.string())})
        header_list = ["_empty"]
    return SourceRows(header_list, table, lines, encoding, malformed)


def _json_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_parquet(path: Path) -> SourceRows:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise UnreadableFileError(f"not a readable Parquet file ({error})") from error
    headers = list(table.column_names)
    table = table.rename_columns(positional_names(len(headers)))
    lines = np.arange(1, table.num_rows + 1, dtype=np.int64)  # Parquet rows count from 1
    return SourceRows(headers, table, lines)


def read_parquet_shape(path: Path) -> tuple[SourceRows, int]:
    """A Parquet file's headers and schema (no rows: DuckDB reads them) and its row count,
    from the footer."""
    try:
        metadata = pq.read_metadata(path)
        schema = metadata.schema.to_arrow_schema()
    except (pa.ArrowInvalid, OSError) as error:
        raise UnreadableFileError(f"not a readable Parquet file ({error})") from error
    headers = list(schema.names)
    empty = schema.empty_table().rename_columns(positional_names(len(headers)))
    return SourceRows(headers, empty, np.array([], dtype=np.int64)), metadata.num_rows


def read_source(path: Path, expected_headers: set[str], encoding_hint: str | None) -> SourceRows:
    """Read any supported inbox file; UnreadableFileError says why in words a person gets."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFileError(
            f"files ending {suffix or '(no extension)'} are not read; "
            f"deliver CSV, XLSX, JSON lines or Parquet"
        )
    if suffix == ".xlsx":
        return read_xlsx(path, expected_headers)
    if suffix == ".parquet":
        return read_parquet(path)
    data = path.read_bytes()
    if not data.strip():
        return _empty([])
    if suffix in (".jsonl", ".ndjson"):
        return read_json_lines(data, encoding_hint)
    return read_csv(data, expected_headers, encoding_hint)
