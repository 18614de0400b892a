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
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipelines.settings import FileLimits, file_limits

SUPPORTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".jsonl", ".ndjson", ".parquet")
# GBK and GB2312 are subsets of GB18030, so one decoder reads all three.
GB_FAMILY = {"gbk", "gb2312", "gb18030", "cp936"}
HEADER_SEARCH_ROWS = 20
LONE_CARRIAGE_RETURN = re.compile(rb"\r(?!\n)")
# A quarantined line with thousands of stray fields keeps the first few.
EXTRA_FIELDS_KEPT = 20
# The column a workbook read from several sheets adds, naming each row's sheet.
SHEET_COLUMN = "_sheet"
# Rows of a workbook's later sheets carry sheet position * stride + row, so that a row is
# one (file, line) while it is checked; the quarantine and raw store the row in its sheet
# (displayed_line), and the record names the sheet.
SHEET_LINE_STRIDE = 2**32


def displayed_line(line_sql: str) -> str:
    """SQL for the line a person looks up, from the line a row is checked under."""
    return f"({line_sql} % {SHEET_LINE_STRIDE})"


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
    # rows the reader passed over on purpose, by reason (a workbook's sheet of another kind)
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def rows_read(self) -> int:
        return self.data.num_rows + len(self.malformed) + sum(self.skipped.values())


def positional_names(count: int) -> list[str]:
    # Safe SQL identifiers whatever the headers say; the headers travel as parameters.
    return [f"c{index}" for index in range(count)]


def _empty(headers: list[str], encoding: str | None = None) -> SourceRows:
    names = positional_names(len(headers))
    table = pa.table({name: pa.array([], pa.string()) for name in names})
    return SourceRows(headers, table, np.array([], dtype=np.int64), encoding)


def header_row_of(rows: list[list[object]], expected: set[str]) -> int | None:
    """Index of the first row that holds the expected header names (title rows come above
    it), or None when no row does."""
    folded = {name.casefold() for name in expected}
    needed = min(2, len(folded))
    for index, row in enumerate(rows):
        cells = {str(cell).strip().casefold() for cell in row if cell is not None}
        if len(cells & folded) >= needed:
            return index
    return None


def find_header_row(rows: list[list[object]], expected: set[str]) -> int:
    """The header's index; without the expected names, the first row that holds anything
    (the contract checks then say which columns are missing)."""
    found = header_row_of(rows, expected)
    if found is not None:
        return found
    return next((index for index, row in enumerate(rows) if any(row)), 0)


def decode(data: bytes, hint: str | None) -> tuple[bytes, str]:
    """UTF-8 bytes of the file and the encoding it was written in.

    Detected, not guessed: a BOM decides; otherwise strict UTF-8 is tried before anything
    else, because Chinese UTF-8 text would also decode (as nonsense) under GB18030. A file
    that is neither UTF-8 throughout nor GBK throughout is refused (see one_encoding).
    """
    if data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8) :]
        _strict_decode(body, "utf-8")
        return body, "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFileError(
            "the file is UTF-16; save it as UTF-8 or GBK CSV and deliver it again"
        )
    try:
        data.decode("utf-8")
        return data, "utf-8"
    except UnicodeDecodeError:
        pass
    if hint and hint.lower() not in GB_FAMILY and hint.lower() not in ("utf-8", "utf8"):
        try:
            return data.decode(hint).encode("utf-8"), hint
        except (UnicodeDecodeError, LookupError):
            pass
    one_encoding(data)
    _strict_decode(data, "gb18030")
    return data.decode("gb18030").encode("utf-8"), "gb18030"


def _strict_decode(data: bytes, encoding: str) -> None:
    try:
        data.decode(encoding)
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 4].hex(" ")
        line = data.count(b"\n", 0, error.start) + 1
        raise UnreadableFileError(
            f"the file is neither UTF-8 nor GBK/GB18030 text: bytes {bad} on line {line} "
            f"cannot be decoded; export it again as UTF-8 or GBK CSV"
        ) from error


def _reads_as_gbk_text(line: bytes) -> bool:
    """Whether a line that is valid UTF-8 is more likely GBK: GBK Chinese is made of the
    common GB2312 ideographs, UTF-8 Chinese read as GBK mostly of rare or unassigned ones
    (周霞 becomes 鍛ㄩ湠). Short GBK lines are valid UTF-8 by chance often enough to matter."""
    try:
        text = line.decode("gb18030")
    except UnicodeDecodeError:
        return False
    wide = [char for char in text if ord(char) > 0x7F]
    common = sum(1 for char in wide if "\u4e00" <= char <= "\u9fff" and _in_gb2312(char))
    return bool(wide) and common >= 0.6 * len(wide)


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


def one_encoding(data: bytes) -> None:
    """Refuse a file whose lines are in two encodings (GBK lines pasted into a UTF-8 file, or
    the reverse): decoding it either way would load one part as mojibake without a word."""
    first: tuple[str, int] | None = None
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            kind = "GBK" if _reads_as_gbk_text(line) else "UTF-8"
        except UnicodeDecodeError:
            kind = "GBK"
        if first is None:
            first = (kind, number)
        elif kind != first[0]:
            raise UnreadableFileError(
                f"the file mixes encodings: line {first[1]} is {first[0]} but line {number} "
                f"is {kind}; export the whole file again in one encoding (UTF-8)"
            )


def _physical_lines(text: str) -> list[str]:
    """Lines as a text editor numbers them (\\n, \\r\\n or \\r), endings kept."""
    return list(io.StringIO(text, newline=""))


def _head_of(body: bytes) -> bytes:
    """The bytes of the first lines, where a title row and the header are looked for."""
    end = 0
    for _ in range(HEADER_SEARCH_ROWS):
        end = body.find(b"\n", end) + 1
        if end == 0:
            return body
    return body[:end]


def read_csv(data: bytes, expected: set[str], hint: str | None, limits: FileLimits) -> SourceRows:
    # our own limit (refuse_long_fields) says more than the csv module's
    csv.field_size_limit(2**31 - 1)
    body, encoding = decode(data, hint)
    head = _physical_lines(_head_of(body).decode("utf-8"))[:HEADER_SEARCH_ROWS]
    # each head line parsed alone: its index is its line number, whatever blank or title
    # lines sit above the header
    head_rows = [next(csv.reader([line.rstrip("\r\n")]), []) for line in head]
    if not any(head_rows):
        return _empty([], encoding)
    header_index = find_header_row(head_rows, expected)
    headers = [cell.strip() for cell in head_rows[header_index]]
    check_columns(len(headers), limits)
    data_start = len("".join(head[: header_index + 1]).encode("utf-8"))
    section = body[data_start:]
    lines_in_file = section.count(b"\n")
    if lines_in_file > limits.max_rows:
        raise UnreadableFileError(
            f"the file has {lines_in_file:,} lines; at most {limits.max_rows:,} are read "
            f"(OEX_MAX_ROWS); split it into smaller files"
        )
    first_line = header_index + 2
    if not section.strip():
        return _empty(headers, encoding)
    rows = _fast_csv(section, headers, first_line) or _careful_csv(
        section.decode("utf-8"), headers, first_line, limits
    )
    rows.encoding = encoding
    return refuse_long_fields(rows, limits)


def _parse_with_arrow(section: bytes, count: int, use_threads: bool) -> tuple[pa.Table, list]:
    names = positional_names(count)
    invalid: list = []

    def keep_invalid(row) -> str:
        invalid.append(row)
        return "skip"

    def parse(block_size: int | None) -> pa.Table:
        read_options = pacsv.ReadOptions(column_names=names, use_threads=use_threads)
        if block_size:
            read_options.block_size = block_size
        return pacsv.read_csv(
            pa.py_buffer(section),
            read_options=read_options,
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=keep_invalid
            ),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
        )

    try:
        table = parse(None)
    except pa.ArrowInvalid as error:
        if "straddl" not in str(error):
            raise
        invalid.clear()  # a row longer than a block: read the file as one block
        table = parse(len(section) + 1)
    return table, invalid


def _fast_csv(section: bytes, headers: list[str], first_line: int) -> SourceRows | None:
    """pyarrow's multi-threaded reader, when every record is one line: then the records are
    the non-blank lines in order and their line numbers are exact. None when the file has a
    record over several lines or an unbalanced quote (_careful_csv reads it)."""
    if not _one_record_per_line(section):
        return None
    line_numbers = first_line + _non_blank_lines(section)
    table, invalid = _parse_with_arrow(section, len(headers), use_threads=True)
    if invalid:
        # only a single-threaded read numbers the rows it could not split
        table, invalid = _parse_with_arrow(section, len(headers), use_threads=False)
    if table.num_rows + len(invalid) != len(line_numbers):
        return None
    malformed = []
    for row in invalid:
        if not 0 < row.number <= len(line_numbers):
            return None
        fields = next(csv.reader([row.text]), [])
        malformed.append(field_count_problem(fields, headers, int(line_numbers[row.number - 1])))
    if invalid:
        keep = np.ones(len(line_numbers), dtype=bool)
        keep[[row.number - 1 for row in invalid]] = False
        line_numbers = line_numbers[keep]
    return SourceRows(headers, table, line_numbers.astype(np.int64), malformed=malformed)


def _one_record_per_line(section: bytes) -> bool:
    """True when every line holds an even number of quote characters: no quoted field runs
    over a line break and no quote is left open."""
    if b'"' not in section:
        return True
    buffer = np.frombuffer(section, dtype=np.uint8)
    quotes = np.flatnonzero(buffer == ord('"'))
    line_ends = np.flatnonzero(buffer == ord("\n"))
    per_line = np.bincount(np.searchsorted(line_ends, quotes), minlength=len(line_ends) + 1)
    return not (per_line & 1).any()


def _non_blank_lines(section: bytes) -> np.ndarray:
    """0-based indexes of the lines (split at \\n) that hold something, as pyarrow counts rows."""
    if LONE_CARRIAGE_RETURN.search(section) or not section:
        return np.array([], dtype=np.int64)  # lone \r endings: _careful_csv numbers them
    buffer = np.frombuffer(section, dtype=np.uint8)
    line_ends = np.flatnonzero(buffer == ord("\n"))
    starts = np.concatenate(([0], line_ends + 1))
    ends = np.concatenate((line_ends, [len(section)]))
    ends = ends - ((ends > starts) & (buffer[np.maximum(ends - 1, 0)] == ord("\r")))
    return np.flatnonzero(ends > starts).astype(np.int64)


def _careful_csv(text: str, headers: list[str], first_line: int, limits: FileLimits) -> SourceRows:
    """Python's csv reader, record by record, knowing the line each record starts on. A
    record that breaks the quoting (a quote never closed, one closed mid-field, or one that
    joins whole rows into a field) is quarantined as the one line it starts on, and reading
    resumes on the next line: a broken quote costs one row, not the rest of the file."""
    physical = _physical_lines(text)
    records: list[list[str]] = []
    lines: list[int] = []
    malformed: list[MalformedRow] = []
    start = 0
    while start < len(physical):
        reader = csv.reader((physical[i] for i in range(start, len(physical))), strict=True)
        consumed = 0
        resume = None
        try:
            for fields in reader:
                record_start, consumed = start + consumed, reader.line_num
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue  # a blank line is not a row
                over_lines = start + consumed - record_start > 1
                # a stray quote joined the rows below it into one field
                if over_lines and _joins_rows(fields, headers):
                    malformed.append(_broken_quote(physical, record_start, first_line))
                    resume = record_start + 1
                    break
                if len(fields) == len(headers):
                    records.append(fields)
                    lines.append(first_line + record_start)
                else:
                    malformed.append(
                        field_count_problem(fields, headers, first_line + record_start)
                    )
        except csv.Error:
            record_start = start + consumed
            malformed.append(_broken_quote(physical, record_start, first_line))
            resume = record_start + 1
        if resume is None:
            break
        start = resume
    names = positional_names(len(headers))
    columns = {
        name: pa.array([record[index] for record in records], pa.string())
        for index, name in enumerate(names)
    }
    table = pa.table(columns) if columns else pa.table({})
    return SourceRows(headers, table, np.array(lines, dtype=np.int64), malformed=malformed)


def _joins_rows(fields: list[str], headers: list[str]) -> bool:
    """Whether a record over several lines holds a field with a line break and as many
    separators as a whole row: then a stray quote joined rows into one field. An address or
    a comment with a line break rarely holds that many commas; if one does, its row is
    quarantined, which a person sees, rather than rows merged, which nobody would."""
    if len(headers) < 2:
        return False
    return any(
        ("\n" in field or "\r" in field) and field.count(",") >= len(headers) - 1
        for field in fields
    )


def _broken_quote(physical: list[str], index: int, first_line: int) -> MalformedRow:
    reason = (
        'a quote (") on this line is not closed where its field ends; the line was read '
        "alone so that the lines below it still count"
    )
    return MalformedRow(first_line + index, reason, {"_raw_line": short(physical[index])})


def field_count_problem(fields: list[str], headers: list[str], line: int) -> MalformedRow:
    """A line with more or fewer fields than the header, as a quarantined row."""
    kind = "fewer" if len(fields) < len(headers) else "more"
    reason = (
        f"the line has {kind} fields ({len(fields)}) than the header "
        f"({len(headers)}); it is cut off or has a stray separator"
    )
    record: dict = {header: short(value) for header, value in zip(headers, fields, strict=False)}
    if len(fields) > len(headers):
        extra = fields[len(headers) :]
        record["_extra_fields"] = [short(value) for value in extra[:EXTRA_FIELDS_KEPT]]
        if len(extra) > EXTRA_FIELDS_KEPT:
            record["_extra_fields_not_shown"] = len(extra) - EXTRA_FIELDS_KEPT
    return MalformedRow(line, reason, record)


def short(text: str, limit: int = 200) -> str:
    """A value as a quarantine record keeps it: long values cut, saying how long they were."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def check_columns(count: int, limits: FileLimits) -> None:
    if count > limits.max_columns:
        raise UnreadableFileError(
            f"the file has {count:,} columns; at most {limits.max_columns:,} are read "
            f"(OEX_MAX_COLUMNS)"
        )


def check_size(path: Path, limits: FileLimits) -> None:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise UnreadableFileError(
            f"the file is {size / 2**20:,.0f} MB; files up to {limits.max_file_mb:,} MB are "
            f"read (OEX_MAX_FILE_MB); split it into smaller files"
        )


def refuse_long_fields(rows: SourceRows, limits: FileLimits) -> SourceRows:
    """Quarantine the rows with a field longer than the limit, naming the field."""
    if rows.data.num_rows == 0 or not rows.data.num_columns:
        return rows
    too_long = None
    for column in rows.data.columns:
        # a value's bytes, read from the offsets, bound its characters: most columns stop here
        if not pa.types.is_string(column.type) or (
            (pc.max(pc.binary_length(column)).as_py() or 0) <= limits.max_field_chars
        ):
            continue
        over = pc.fill_null(pc.greater(pc.utf8_length(column), limits.max_field_chars), False)
        too_long = over if too_long is None else pc.or_(too_long, over)
    if too_long is None or not pc.any(too_long).as_py():
        return rows
    mask = too_long.to_numpy(zero_copy_only=False)
    for index in np.flatnonzero(mask):
        values = {h: rows.data.column(i)[index].as_py() for i, h in enumerate(rows.headers)}
        longest = max(values, key=lambda h: len(values[h] or ""))
        reason = (
            f"{longest} is {len(values[longest]):,} characters long; fields are read up to "
            f"{limits.max_field_chars:,} characters (OEX_MAX_FIELD_CHARS)"
        )
        record = {header: short(value or "") for header, value in values.items()}
        rows.malformed.append(MalformedRow(int(rows.lines[index]), reason, record))
    rows.data = rows.data.filter(pa.array(~mask))
    rows.lines = rows.lines[~mask]
    return rows


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


def read_xlsx(path: Path, expected: set[str], limits: FileLimits) -> SourceRows:
    """Every sheet whose header has the table's columns, row by row as stored.

    The sheet's declared size is not trusted: tools that do not update it make it too small
    (rows lost) and a hostile file makes it huge (memory exhausted), so rows come from the
    cells actually stored. Sheets of another kind are skipped and counted, naming them.
    """
    import openpyxl

    _check_unpacked_size(path, limits)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise UnreadableFileError(f"not a readable XLSX workbook ({error})") from error
    try:
        budget = CellBudget(limits)
        sheets = [
            _read_sheet(workbook, sheet, budget)
            for sheet in workbook.worksheets
            if hasattr(sheet, "_get_source")  # chart sheets hold no cells
        ]
    finally:
        workbook.close()
    return _combine_sheets([sheet for sheet in sheets if sheet.rows], expected, limits)


@dataclass
class CellBudget:
    """Filled cells left for this workbook (OEX_MAX_SHEET_CELLS) and its row limit."""

    limits: FileLimits
    cells: int = 0

    def spend(self, count: int, row_number: int) -> None:
        self.cells += count
        if self.cells > self.limits.max_sheet_cells:
            raise UnreadableFileError(
                f"the workbook holds more than {self.limits.max_sheet_cells:,} filled cells "
                f"(OEX_MAX_SHEET_CELLS); split it or deliver CSV"
            )
        if row_number > self.limits.max_rows:
            raise UnreadableFileError(
                f"the workbook has a row numbered {row_number:,}; at most "
                f"{self.limits.max_rows:,} rows are read (OEX_MAX_ROWS)"
            )


@dataclass
class StoredSheet:
    name: str
    rows: list[tuple[int, dict[int, tuple[object, str]]]]  # row number, column -> (value, kind)


def _check_unpacked_size(path: Path, limits: FileLimits) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError) as error:
        raise UnreadableFileError(f"not a readable XLSX workbook ({error})") from error
    if unpacked > limits.max_file_bytes:
        raise UnreadableFileError(
            f"the workbook unpacks to {unpacked / 2**20:,.0f} MB; workbooks up to "
            f"{limits.max_file_mb:,} MB unpacked are read (OEX_MAX_FILE_MB)"
        )


def _read_sheet(workbook, sheet, budget: CellBudget) -> StoredSheet:
    """The sheet's filled cells, as stored: (value, kind) by column, for each row."""
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class CellsWithFormulas(WorkSheetParser):
        # openpyxl's reader gives a formula's saved value; a formula saved without one (by
        # a tool that does not calculate) would read as an empty cell, so it is marked
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            formula = element.find(FORMULA_TAG)
            if cell["value"] is None and formula is not None:
                cell["value"], cell["data_type"] = f"={formula.text or ''}", "formula"
            return cell

    rows = []
    with sheet._get_source() as source:  # the sheet's XML, streamed
        parser = CellsWithFormulas(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for row_number, cells in parser.parse():
            filled = {
                cell["column"]: (cell["value"], cell["data_type"])
                for cell in cells
                if cell["value"] is not None and str(cell["value"]).strip()
            }
            budget.spend(len(filled), row_number)
            if filled:
                rows.append((row_number, filled))
    return StoredSheet(sheet.title, rows)


NO_CELL = (None, "")


def _dense_head(sheet: StoredSheet, limits: FileLimits) -> list[list[object]]:
    """The sheet's first rows as plain lists, where its header is looked for."""
    head = sheet.rows[:HEADER_SEARCH_ROWS]
    widest = min(max(max(cells) for _, cells in head), limits.max_columns + 1)
    return [[cells.get(col, NO_CELL)[0] for col in range(1, widest + 1)] for _, cells in head]


def _headers_at(sheet: StoredSheet, index: int, limits: FileLimits) -> list[str]:
    _, cells = sheet.rows[index]
    width = max(cells)
    check_columns(width, limits)
    return [cell_text(cells.get(col, NO_CELL)[0]) or f"column_{col}" for col in range(1, width + 1)]


def _align(headers: list[str], sheet_headers: list[str]) -> dict[int, int]:
    """Sheet column (from 1) -> position in headers, matching names; new names are added."""
    folded = [header.strip().casefold() for header in headers]
    position = {}
    for col, header in enumerate(sheet_headers, start=1):
        name = header.strip().casefold()
        if name not in folded:
            headers.append(header)
            folded.append(name)
        position[col] = folded.index(name)
    return position


def _combine_sheets(
    sheets: list[StoredSheet], expected: set[str], limits: FileLimits
) -> SourceRows:
    if not sheets:
        return _empty([])
    found: dict[str, tuple[int, list[str]]] = {}
    for sheet in sheets:
        index = header_row_of(_dense_head(sheet, limits), expected)
        if index is not None:
            found[sheet.name] = (index, _headers_at(sheet, index, limits))
    if not found:  # the first sheet as it is: the checks then name the missing columns
        index = find_header_row(_dense_head(sheets[0], limits), expected)
        found[sheets[0].name] = (index, _headers_at(sheets[0], index, limits))
    matching = [sheet for sheet in sheets if sheet.name in found]
    several = len(matching) > 1
    headers = list(found[matching[0].name][1])
    positions = {sheet.name: _align(headers, found[sheet.name][1]) for sheet in matching}
    values: list[list[str | None]] = []
    lines: list[int] = []
    malformed: list[MalformedRow] = []
    for number, sheet in enumerate(matching):
        index, _ = found[sheet.name]
        position = positions[sheet.name]
        for row_number, cells in sheet.rows[index + 1 :]:
            row: list[str | None] = [None] * len(headers)
            for col, (value, _) in cells.items():
                if col in position:
                    row[position[col]] = cell_text(value)
            if several:
                row.append(sheet.name)
            problem = _cell_problem(cells, position)
            if problem:
                named = zip([*headers, SHEET_COLUMN], row, strict=False)
                record = {header: value for header, value in named if value is not None}
                malformed.append(MalformedRow(row_number, problem, record))
                continue
            values.append(row)
            lines.append(number * SHEET_LINE_STRIDE + row_number)
    if several:
        headers.append(SHEET_COLUMN)
    skipped = {
        f"rows of sheet '{sheet.name}', which has no header with this table's columns": len(
            sheet.rows
        )
        for sheet in sheets
        if sheet.name not in found
    }
    table = pa.table(
        {
            name: pa.array([row[i] for row in values], pa.string())
            for i, name in enumerate(positional_names(len(headers)))
        }
    )
    rows = SourceRows(headers, table, np.array(lines, dtype=np.int64), None, malformed, skipped)
    return refuse_long_fields(rows, limits)


def _cell_problem(cells: dict[int, tuple[object, str]], position: dict[int, int]) -> str | None:
    """Why a stored row cannot be loaded as it is, naming the cell; None when it can."""
    from openpyxl.utils import get_column_letter

    for col, (value, kind) in sorted(cells.items()):
        letter = get_column_letter(col)
        if kind == "formula":
            return (
                f"column {letter} holds a formula ({short(str(value), 60)}) saved without its "
                f"value; open the file in Excel (or LibreOffice), save it and deliver it again"
            )
        if kind == "e":
            return f"column {letter} holds the Excel error {value}"
        if col not in position:
            shown = short(cell_text(value) or "", 60)
            return f"column {letter} holds a value ({shown}) but has no header"
    return None


def read_json_lines(data: bytes, hint: str | None, limits: FileLimits) -> SourceRows:
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
        check_columns(len(headers), limits)
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
    return refuse_long_fields(SourceRows(header_list, table, lines, encoding, malformed), limits)


def _json_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_parquet(path: Path, limits: FileLimits) -> SourceRows:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise UnreadableFileError(f"not a readable Parquet file ({error})") from error
    headers = list(table.column_names)
    check_columns(len(headers), limits)
    table = table.rename_columns(positional_names(len(headers)))
    lines = np.arange(1, table.num_rows + 1, dtype=np.int64)  # Parquet rows count from 1
    return SourceRows(headers, table, lines)


def read_parquet_shape(path: Path, limits: FileLimits | None = None) -> tuple[SourceRows, int]:
    """A Parquet file's headers and schema (no rows: DuckDB reads them) and its row count,
    from the footer."""
    limits = limits or file_limits()
    check_size(path, limits)
    try:
        metadata = pq.read_metadata(path)
        schema = metadata.schema.to_arrow_schema()
    except (pa.ArrowInvalid, OSError) as error:
        raise UnreadableFileError(f"not a readable Parquet file ({error})") from error
    headers = list(schema.names)
    check_columns(len(headers), limits)
    if metadata.num_rows > limits.max_rows:
        raise UnreadableFileError(
            f"the file has {metadata.num_rows:,} rows; at most {limits.max_rows:,} are read "
            f"(OEX_MAX_ROWS); split it into smaller files"
        )
    empty = schema.empty_table().rename_columns(positional_names(len(headers)))
    return SourceRows(headers, empty, np.array([], dtype=np.int64)), metadata.num_rows


def read_source(
    path: Path,
    expected_headers: set[str],
    encoding_hint: str | None,
    limits: FileLimits | None = None,
) -> SourceRows:
    """Read any supported inbox file; UnreadableFileError says why in words a person gets."""
    limits = limits or file_limits()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFileError(
            f"files ending {suffix or '(no extension)'} are not read; "
            f"deliver CSV, XLSX, JSON lines or Parquet"
        )
    check_size(path, limits)
    if suffix == ".xlsx":
        return read_xlsx(path, expected_headers, limits)
    if suffix == ".parquet":
        return read_parquet(path, limits)
    data = path.read_bytes()
    if not data.strip():
        return _empty([])
    if suffix in (".jsonl", ".ndjson"):
        return read_json_lines(data, encoding_hint, limits)
    return read_csv(data, expected_headers, encoding_hint, limits)
