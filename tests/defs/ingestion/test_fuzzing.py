"""Property-based fuzzing of the readers and the contract checks (issue 17).

Hypothesis writes order-line files the way real exports come: CSV in three encodings and
three line endings, quoted or not, with title rows, blank lines, multi-line fields, broken
quotes and short rows; workbooks over several sheets with formulas and a notes sheet; JSON
lines with broken lines; Parquet; odd numbers and odd file names. For every file:

- rows in the file = rows loaded + rows quarantined + rows skipped (nothing lost);
- every quarantined row is at the line (or sheet row) it names, and so is every loaded row;
- the run does not crash, and a clean file beside it loads in full.

`make test` runs a fixed set of examples (derandomized, about half a minute);
`make fuzz` runs many random ones (OEX_FUZZ_EXAMPLES, default there 2,000 per format).
"""

import csv
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.defs.ingestion import ingest_table

EXAMPLES = int(os.environ.get("OEX_FUZZ_EXAMPLES") or 15)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="OEX_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
COLUMNS = ["order_id", "line_number", "sku", "quantity", "unit_price", "is_presale"]
CONTROL = "order_lines_2026-11-02.csv"
# no "O" and no digits: an order id (O0001) is found on its line and nowhere else
TEXT = st.text(st.sampled_from(list("abcXYZ 中文周霞é,;\"'\n\r\t=+-@#%&")), max_size=10)
SAFE_TEXT = st.text(st.sampled_from(list("abcXYZ 中文周霞é;-#")), max_size=10)
QUANTITY = st.one_of(
    st.integers(-5, 10**6).map(str),
    st.sampled_from(["two", "2.5", "NaN", "1e3", " 3 ", "", "99999999999", "-inf"]),
)
PRICE = st.one_of(
    st.decimals(0, 10**6, places=2, allow_nan=False).map(str),
    st.sampled_from(["59", "59.125", "inf", "¥5", "1e20", "", "0.1", "5.9E1"]),
)
PRESALE = st.sampled_from(["true", "false", "TRUE", "1", "yes", "maybe", ""])
BREAKAGE = st.sampled_from(["none"] * 6 + ["short", "long", "open_quote"])
FILE_SUFFIX = st.text(st.sampled_from(list("ab1 中文-_()#%'")), max_size=6)


@dataclass
class Row:
    order_id: str
    fields: list[str]
    breakage: str = "none"


@st.composite
def rows(draw, text=TEXT, breakages=BREAKAGE) -> list[Row]:
    count = draw(st.integers(1, 12))
    made = []
    for number in range(1, count + 1):
        order_id = f"O{number:04d}"
        fields = [
            order_id,
            draw(st.sampled_from(["1", "2", "x"])),
            draw(text),
            draw(QUANTITY),
            draw(PRICE),
            draw(PRESALE),
        ]
        made.append(Row(order_id, fields, draw(breakages)))
    return made


# ---------------------------------------------------------------- writing the files


def csv_line(row: Row, quoting: int, terminator: str) -> str:
    if row.breakage == "open_quote":
        # a quote opened and never closed, in a field that is otherwise plain
        plain = [
            field.replace('"', "").replace("\n", " ").replace("\r", " ") for field in row.fields
        ]
        plain[2] = '"' + plain[2].replace(",", " ")
        return ",".join(plain) + terminator
    fields = row.fields[:-1] if row.breakage == "short" else row.fields
    if row.breakage == "long":
        fields = [*fields, "stray"]
    return ",".join(quoted(field, quoting) for field in fields) + terminator


def quoted(field: str, quoting: int) -> str:
    """A field as a CSV writer writes it: quoted when it must be (or always), quotes doubled.
    (Python's writer leaves a line feed unquoted when the line ending is a lone CR.)"""
    if quoting == csv.QUOTE_ALL or any(char in field for char in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field


@st.composite
def csv_files(draw):
    made = draw(rows())
    terminator = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk"]))
    text = ""
    if draw(st.booleans()):
        text += "订单明细报表" + terminator + terminator
    text += ",".join(COLUMNS) + terminator
    for row in made:
        text += terminator * draw(st.integers(0, 2) if draw(st.booleans()) else st.just(0))
        text += csv_line(row, quoting, terminator)
    suffix = draw(FILE_SUFFIX)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:  # ¥ has no GBK form (GBK files write ￥)
        data = text.encode("utf-8")
    return made, f"order_lines_2026-11-01{suffix}.csv", data


@st.composite
def json_lines_files(draw):
    made = draw(rows(breakages=st.sampled_from(["none"] * 5 + ["cut"])))
    lines = []
    for row in made:
        lines += [""] * draw(st.integers(0, 1))
        line = json.dumps(dict(zip(COLUMNS, row.fields, strict=True)), ensure_ascii=False)
        lines.append(line[: len(line) // 2] if row.breakage == "cut" else line)
    return made, "order_lines_2026-11-01.jsonl", ("\n".join(lines) + "\n").encode("utf-8")


def workbook_value(text: str) -> object:
    try:
        return int(text) if text.strip().lstrip("-").isdigit() and len(text) < 10 else text
    except ValueError:
        return text


@st.composite
def workbook_files(draw):
    made = draw(rows(text=SAFE_TEXT, breakages=st.sampled_from(["none"] * 5 + ["formula"])))
    book = openpyxl.Workbook()
    book.remove(book.active)
    split = draw(st.integers(0, len(made)))
    extra = 0
    for name, part in (("数据", made[:split]), ("Sheet2", made[split:])):
        if not part and name == "Sheet2":
            continue
        sheet = book.create_sheet(name)
        if draw(st.booleans()):
            sheet.append(["订单明细报表"])
            sheet.append([])
        sheet.append(COLUMNS)
        for row in part:
            values = [workbook_value(field) for field in row.fields]
            if row.breakage == "formula":
                values[3] = "=1+1"
            sheet.append(values)
    if draw(st.booleans()):
        notes = book.create_sheet("说明")
        notes.append(["本表由系统导出"])
        extra = 1
    buffer = io.BytesIO()
    book.save(buffer)
    return made, "order_lines_2026-11-01.xlsx", buffer.getvalue(), extra


@st.composite
def parquet_files(draw):
    made = draw(rows(breakages=st.just("none")))
    table = pa.table({name: [row.fields[i] for row in made] for i, name in enumerate(COLUMNS)})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return made, "order_lines_2026-11-01.parquet", buffer.getvalue()


# ---------------------------------------------------------------- the invariant


def ingest(name: str, data: bytes):
    """Ingest the fuzzed file beside a clean control file; the ledger entry of each."""
    with tempfile.TemporaryDirectory() as folder:
        inbox = Path(folder) / "inbox"
        (inbox / "orders").mkdir(parents=True)
        (inbox / "orders" / name).write_bytes(data)
        control = ["order_id,line_number,sku,quantity,unit_price,is_presale"]
        control += [f"C{n},1,TS01,1,59.00,false" for n in range(3)]
        (inbox / "orders" / CONTROL).write_text("\n".join(control) + "\n", "utf-8")
        connection = duckdb.connect()
        try:
            summary = ingest_table("order_lines", connection, inbox)
            located = connection.execute(
                """
                select _source_line, order_id, null from raw.order_lines
                where order_id not like 'C%'
                union all
                select line_number, raw_record::json ->> 'order_id',
                    coalesce(raw_record::json ->> '_raw_line', raw_record::json ->> '_sheet')
                from raw.quarantine
                """
            ).fetchall()
        finally:
            connection.close()
    outcomes = {outcome.source_file.rsplit("/", 1)[-1]: outcome for outcome in summary.files}
    return outcomes, located


def assert_nothing_lost(outcomes, name: str, rows_in_file: int) -> None:
    control = outcomes[CONTROL]
    assert (control.status, control.rows_loaded) == ("loaded", 3), control.message
    fuzzed = outcomes[name]
    assert fuzzed.status == "loaded", fuzzed.message
    assert fuzzed.rows_read == rows_in_file, fuzzed.message
    assert fuzzed.rows_read == (
        fuzzed.rows_loaded + fuzzed.rows_quarantined + fuzzed.rows_skipped
    ), fuzzed.message


def assert_found_at_their_lines(located, file_lines: list[str]) -> None:
    for line, order_id, raw_line in located:
        text = file_lines[line - 1]
        if order_id is not None:
            assert order_id in text, (line, order_id, text)
        else:  # a line that could not be split: the record holds it as it was
            assert raw_line.strip() in text, (line, raw_line, text)


@FUZZ
@given(csv_files())
def test_every_csv_row_is_loaded_or_quarantined_at_its_line(case):
    made, name, data = case
    outcomes, located = ingest(name, data)

    assert_nothing_lost(outcomes, name, len(made))
    text = data.decode("gbk" if outcomes[name].encoding == "gb18030" else "utf-8-sig")
    assert_found_at_their_lines(located, list(io.StringIO(text, newline="")))


@FUZZ
@given(json_lines_files())
def test_every_json_line_is_loaded_or_quarantined_at_its_line(case):
    made, name, data = case
    outcomes, located = ingest(name, data)

    assert_nothing_lost(outcomes, name, len(made))
    assert_found_at_their_lines(located, data.decode("utf-8").split("\n"))


@FUZZ
@given(workbook_files())
def test_every_workbook_row_is_loaded_or_quarantined_at_its_sheet_row(case):
    made, name, data, notes = case
    outcomes, located = ingest(name, data)

    assert_nothing_lost(outcomes, name, len(made) + notes)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheets = [sheet for sheet in book.worksheets if sheet.title != "说明"]
    for line, order_id, sheet_name in located:
        sheet = book[sheet_name] if sheet_name else sheets[0]
        if not sheet_name and len(sheets) > 1:  # loaded rows: the id is in one of the sheets
            assert any(s.cell(line, 1).value == order_id for s in sheets), (line, order_id)
        else:
            assert sheet.cell(line, 1).value == order_id, (line, order_id, sheet.title)


@FUZZ
@given(parquet_files())
def test_every_parquet_row_is_loaded_or_quarantined_at_its_row(case):
    made, name, data = case
    outcomes, located = ingest(name, data)

    assert_nothing_lost(outcomes, name, len(made))
    for line, order_id, _ in located:
        assert made[line - 1].order_id == order_id
