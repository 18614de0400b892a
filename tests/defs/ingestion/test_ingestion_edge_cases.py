"""The input edge cases of issue 17, one named test per class: what real exports contain
(broken quotes, title rows, stale workbooks, mixed encodings, odd numbers, huge fields) ends
loaded, quarantined at the line a person can find, skipped by reason or refused in words;
never lost, never changed without a word, never stopping the files beside it."""

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from ingestion_helpers import count, ledger, quarantined

from pipelines.defs.ingestion import ingest_table

HEADER = "order_id,line_number,sku,quantity,unit_price,is_presale"


def good_lines(count_: int, first: int = 1) -> list[str]:
    return [f"O{n},1,TS01-M-BLK,1,59.00,false" for n in range(first, first + count_)]


def order_lines_file(inbox: Path, text: str | bytes, day: str = "2026-11-01") -> Path:
    path = inbox / "orders" / f"order_lines_{day}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, "utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def accounting(summary) -> tuple[int, int, int, int]:
    return (
        summary.rows_read,
        summary.rows_loaded,
        summary.rows_quarantined,
        summary.rows_skipped,
    )


def loaded_lines(warehouse) -> dict[str, int]:
    """order_id -> the line raw.order_lines says it came from."""
    return dict(warehouse.execute("select order_id, _source_line from raw.order_lines").fetchall())


# ---------------------------------------------------------------- CSV quoting and line numbers


@pytest.mark.parametrize(
    "broken",
    [
        'O3,1,"TS01-M-BLK,1,59.00,false',  # a quote opened in a middle field, never closed
        'O3,1,TS01-M-BLK,1,59.00,"false',  # in the last field: it would swallow the file
        'O3,1,TS"01,1,59.00,false',  # a stray quote inside a field is kept as written
    ],
)
def test_an_unbalanced_quote_costs_at_most_its_own_row(warehouse, tmp_path, broken):
    rows = [*good_lines(2), broken, *good_lines(3, first=4)]
    order_lines_file(tmp_path, "\n".join([HEADER, *rows]) + "\n")

    summary = ingest_table("order_lines", warehouse, tmp_path)

    assert summary.rows_read == 6
    assert summary.rows_loaded + summary.rows_quarantined == 6
    lines = loaded_lines(warehouse)
    assert {f"O{n}": n + 1 for n in (1, 2, 4, 5, 6)}.items() <= lines.items()
    if summary.rows_quarantined:
        ((line, _, reason),) = quarantined(warehouse, "order_lines")
        assert line == 4
        assert "quote" in reason
    else:
        assert lines["O3"] == 4


def test_a_title_row_and_a_blank_line_above_the_header_lose_no_row(warehouse, tmp_path):
    text = "订单明细报表 2026-11-01\n\n" + HEADER + "\n" + "\n".join(good_lines(4)) + "\n"
    order_lines_file(tmp_path, text)

    summary = ingest_table("order_lines", warehouse, tmp_path)

    assert accounting(summary) == (4, 4, 0, 0)
    assert loaded_lines(warehouse) == {"O1": 4, "O2": 5, "O3": 6, "O4": 7}


def test_line_numbers_count_multi_line_fields_and_blank_lines(warehouse, tmp_path):
    text = (
        f"{HEADER}\r\n"
        'O1,1,"TS01\r\nsecond line of the sku",1,59.00,false\r\n'  # lines 2-3
        "\r\n"  # line 4, a blank line
        "O2,1,TS01-M-BLK,two,59.00,false\r\n"  # line 5, bad quantity
        "\r\n\r\n"  # lines 6-7
        "O3,1,TS01-M-BLK,1,59.00\r\n"  # line 8, a field short
        "O4,1,TS01-M-BLK,1,59.00,false\r\n"  # line 9
    )
    order_lines_file(tmp_path, text)

    summary = ingest_table("order_lines", warehouse, tmp_path)

    assert accounting(summary) == (4, 2, 2, 0)
    assert [line for line, _, _ in quarantined(warehouse, "order_lines")] == [5, 8]
    assert loaded_lines(warehouse) == {"O1": 2, "O4": 9}
    assert warehouse.execute(
        "select sku from raw.order_lines where order_id = 'O1'"
    ).fetchall() == [("TS01\r\nsecond line of the sku",)]


def test_old_mac_line_endings_are_numbered_like_an_editor_does(warehouse, tmp_path):
    text = "\r".join([HEADER, *good_lines(2), "O3,1,TS01-M-BLK,x,59.00,false"]) + "\r"
    order_lines_file(tmp_path, text)

    summary = ingest_table("order_lines", warehouse, tmp_path)

    assert accounting(summary) == (3, 2, 1, 0)
    assert loaded_lines(warehouse) == {"O1": 2, "O2": 3}
    assert [line for line, _, _ in quarantined(warehouse, "order_lines")] == [4]


# ---------------------------------------------------------------- workbooks


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def rewrite_sheet_xml(path: Path, change) -> None:
    """Edit the first sheet's XML inside the workbook, as another tool would have written it."""
    copy = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = change(data.decode("utf-8")).encode("utf-8")
            target.writestr(item, data)
    shutil.move(copy, path)


COLUMNS = HEADER.split(",")


def sheet_rows(first: int, number: int) -> list[list[object]]:
    return [[f"O{n}", 1, "TS01-M-BLK", 1, 59.0, "false"] for n in range(first, first + number)]


def test_every_sheet_with_the_header_is_read_and_other_sheets_are_counted(warehouse, tmp_path):
    path = tmp_path / "orders" / "order_lines_2026-11-01.xlsx"
    workbook(
        path,
        {
            "十一月上": [COLUMNS, *sheet_rows(1, 3)],
            "说明": [["本表由系统导出"], ["如有疑问请联系客服"]],
            # the second data sheet has its columns in another order and a bad quantity
            "十一月下": [
                ["sku", "order_id", "line_number", "quantity", "unit_price", "is_presale"],
                ["TS01-M-BLK", "O4", 1, 2, 59.0, "false"],
                ["TS01-M-BLK", "O5", 1, "two", 59.0, "false"],
            ],
        },
    )

    summary = ingest_table("order_lines", warehouse, tmp_path)

    assert accounting(summary) == (7, 4, 1, 2)
    assert summary.skip_reasons == {
        "rows of sheet '说明', which has no header with this table's columns": 2
    }
    assert warehouse.execute(
        "select order_id, quantity from raw.order_lines order by order_id"
    ).fetchall() == [("O1", 1), ("O2", 1), ("O3", 1), ("O4", 2)]
    record = warehouse.execute(
        "select line_number, raw_record::json from raw.quarantine"
    ).fetchall()
    assert record[0][0] == 3
    assert '"_sheet":"十一月下"' in record[0][1].replace(" ", "")
    assert "_sheet" not in ledger(warehouse, "order_lines")[0]["message"]


def test_a_stale_stored_dimension_does_not_hide_rows(warehouse, tmp_path):
    path = workbook(
        tmp_path / "orders" / "order_lines_2026-11-01.xlsx",
        {"Sheet": [COLUMNS, *sheet_rows(1, 40)]},
    )
    rewrite_sheet_xml(
        path, lambda xml: re.sub(r'<dimension ref="[^"]+"', '<dimension ref="A1:F3"', xml)
    )

    summary = ingest_table("order_lines", warehouse, tmp_path)

    assert accounting(summary) == (40, 40, 0, 0)
    assert loaded_lines(warehouse)["O40"] == 41


def test_a_formula_saved_without_its_value_is_quarantined_not_loaded_empty(warehouse, tmp_path):
    rows = sheet_rows(1, 3)
    rows[1][3] = "=1+1"  # openpyxl, like many tools, writes formulas without a value
    workbook(tmp_path / "orders" / "order_lines_2026-11-01.xlsx", {"Sheet": [COLUMNS, *rows]})

    summary = ingest_table("order_lines", warehouse, tmp_path)

    assert accounting(summary) == (3, 2, 1, 0)
    ((line, _, reason),) = quarantined(warehouse, "order_lines")
    assert line == 3
    assert reason.startswith("column D holds a formula (=1+1) saved without its value")


def test_a_huge_declared_dimension_reads_the_cells_stored(warehouse, tmp_path):
    bomb = workbook(
        tmp_path / "orders" / "order_lines_2026-11-01.xlsx", {"Sheet": [COLUMNS, *sheet_rows(1, 2)]}
    )
    rewrite_sheet_xml(
        bomb, lambda xml: re.sub(r'<dimension ref="[^"]+"', '<dimension ref="A1:XFD1048576"', xml)
    )
    assert bomb.stat().st_size < 10_000

    summary = ingest_table("order_lines", warehouse, tmp_path)

    assert accounting(summary) == (2, 2, 0, 0)


def test_a_workbook_past_the_cell_limit_is_refused_and_the_next_file_loads(
    warehouse, tmp_path, monkeypatch
):
    monkeypatch.setenv("OEX_MAX_SHEET_CELLS", "100")
    workbook(
        tmp_path / "orders" / "order_lines_2026-11-01.xlsx",
        {"Sheet": [COLUMNS, *sheet_rows(1, 30)]},
    )
    order_lines_file(tmp_path, "\n".join([HEADER, *good_lines(2, first=100)]) + "\n", "2026-11-02")

    summary = ingest_table("order_lines", warehouse, tmp_path)

    statuses = {entry["source_file"]: entry for entry in ledger(warehouse, "order_lines")}
    refused = statuses["orders/order_lines_2026-11-01.xlsx"]
    assert refused["status"] == "rejected"
    assert "more than 100 filled cells (OEX_MAX_SHEET_CELLS)" in refused["message"]
    assert statuses["orders/order_lines_2026-11-02.csv"]["status"] == "loaded"
    assert summary.rows_loaded == 2


# ---------------------------------------------------------------- encodings


def gbk_char_that_is_also_utf8() -> str:
    """A common Chinese character whose GBK bytes happen to be valid UTF-8 as well."""
    for code in range(0x4E00, 0x9FA5):
        char = chr(code)
        try:
            char.encode("gb2312").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        return char
    raise AssertionError("no such character")


def test_gbk_lines_inside_a_utf8_file_refuse_the_file_naming_the_line(warehouse, tmp_path):
    lines = [HEADER, "O1,1,周霞的T恤,1,59.00,false", "O2,1,普通商品,1,59.00,false"]
    data = "\n".join(lines[:2]).encode("utf-8") + b"\n" + lines[2].encode("gbk") + b"\n"
    order_lines_file(tmp_path, data)

    ingest_table("order_lines", warehouse, tmp_path)

    (entry,) = ledger(warehouse, "order_lines")
    assert entry["status"] == "rejected"
    assert "mixes encodings: line 2 is UTF-8 but line 3 is GBK" in entry["message"]
    assert count(warehouse, "order_lines") == 0


def test_a_utf8_line_inside_a_gbk_file_refuses_the_file_naming_the_line(warehouse, tmp_path):
    lines = [HEADER, "O1,1,普通商品,1,59.00,false", "O2,1,周霞的T恤,1,59.00,false"]
    data = lines[0].encode() + b"\n" + lines[1].encode("gbk") + b"\n" + lines[2].encode("utf-8")
    order_lines_file(tmp_path, data + b"\n")

    ingest_table("order_lines", warehouse, tmp_path)

    (entry,) = ledger(warehouse, "order_lines")
    assert entry["status"] == "rejected"
    assert "line 2 is GBK but line 3 is UTF-8" in entry["message"]


def test_a_gbk_line_that_happens_to_be_valid_utf8_is_still_gbk(warehouse, tmp_path):
    char = gbk_char_that_is_also_utf8()
    lines = [HEADER, f"O1,1,{char},1,59.00,false", "O2,1,普通商品,1,59.00,false"]
    order_lines_file(tmp_path, "\n".join(lines).encode("gbk") + b"\n")

    summary = ingest_table("order_lines", warehouse, tmp_path)

    assert accounting(summary) == (2, 2, 0, 0)
    assert summary.files[0].encoding == "gb18030"
    assert warehouse.execute("select sku from raw.order_lines order by order_id").fetchall() == [
        (char,),
        ("普通商品",),
    ]


# ---------------------------------------------------------------- numbers


def test_numbers_are_stored_as_written_or_quarantined_saying_why(warehouse, tmp_path):
    rows = [
        "O1,1,A,1,59.10,false",  # kept
        "O2,1,A,1,59.100,false",  # trailing zero: no precision lost
        "O3,1,A,1,59.125,false",  # would be rounded
        "O4,1,A,1,1e20,false",  # does not fit decimal(14,2)
        "O5,1,A,99999999999,59.00,false",  # does not fit an integer
        "O6,1,A,NaN,59.00,false",
        "O7,1,A,1,inf,false",
        "O8,1,A,1,-Infinity,false",
        "O9,1,A,2.5,59.00,false",
    ]
    order_lines_file(tmp_path, "\n".join([HEADER, *rows]) + "\n")

    summary = ingest_table("order_lines", warehouse, tmp_path)

    assert accounting(summary) == (9, 2, 7, 0)
    assert warehouse.execute(
        "select order_id, unit_price::varchar from raw.order_lines order by order_id"
    ).fetchall() == [("O1", "59.10"), ("O2", "59.10")]
    assert [reason for _, _, reason in quarantined(warehouse, "order_lines")] == [
        "unit_price '59.125' has more than 2 decimal places; it would be rounded",
        "unit_price '1e20' is out of range: at most 12 digits before the point",
        "quantity '99999999999' is out of range for a whole number of this column",
        "quantity 'NaN' is not a finite number",
        "unit_price 'inf' is not a finite number",
        "unit_price '-Infinity' is not a finite number",
        "quantity '2.5' is not a whole number",
    ]


def test_a_weight_that_is_not_a_finite_number_is_quarantined(warehouse, tmp_path):
    path = tmp_path / "stock" / "skus_2026-11-01.csv"
    path.parent.mkdir(parents=True)
    rows = [
        f"{sku},P1,M001,{weight},active"
        for sku, weight in (("A", 1.5), ("B", "NaN"), ("C", "-inf"))
    ]
    path.write_text(
        "\n".join(["sku,product_id,merchant_id,weight_kg,status", *rows]) + "\n", "utf-8"
    )

    summary = ingest_table("skus", warehouse, tmp_path)

    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 2)
    assert [reason for _, _, reason in quarantined(warehouse, "skus")] == [
        "weight_kg 'NaN' is not a finite number",
        "weight_kg '-inf' is not a finite number",
    ]


# ---------------------------------------------------------------- sizes and limits


def test_a_five_megabyte_field_quarantines_its_row_in_plain_words(warehouse, tmp_path):
    huge = "X" * (5 * 2**20)
    rows = [*good_lines(2), f"O3,1,{huge},1,59.00,false", *good_lines(2, first=4)]
    order_lines_file(tmp_path, "\n".join([HEADER, *rows]) + "\n")

    summary = ingest_table("order_lines", warehouse, tmp_path)

    assert accounting(summary) == (5, 4, 1, 0)
    ((line, _, reason),) = quarantined(warehouse, "order_lines")
    assert line == 4
    assert reason == (
        "sku is 5,242,880 characters long; fields are read up to 1,000,000 characters "
        "(OEX_MAX_FIELD_CHARS)"
    )
    (record,) = warehouse.execute("select raw_record from raw.quarantine").fetchone()
    assert len(record) < 1_000


def test_a_higher_field_limit_reads_the_long_field(warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("OEX_MAX_FIELD_CHARS", "10_000_000")
    huge = "X" * (5 * 2**20)
    order_lines_file(tmp_path, f"{HEADER}\nO1,1,{huge},1,59.00,false\n")

    summary = ingest_table("order_lines", warehouse, tmp_path)

    assert accounting(summary) == (1, 1, 0, 0)
    assert warehouse.execute("select length(sku) from raw.order_lines").fetchone() == (len(huge),)


def ledger_of_file_with_extra_columns(warehouse, inbox: Path, extra: int) -> dict:
    """Ingest a one-row file with `extra` columns beyond the contract's; its ledger entry."""
    header = HEADER + "," + ",".join(f"extra_{n}" for n in range(extra))
    order_lines_file(inbox, header + "\n" + good_lines(1)[0] + ",x" * extra + "\n")
    ingest_table("order_lines", warehouse, inbox)
    (entry,) = ledger(warehouse, "order_lines")
    return entry


def test_a_hundred_thousand_columns_are_refused_in_a_short_message(warehouse, tmp_path):
    entry = ledger_of_file_with_extra_columns(warehouse, tmp_path, 100_000)
    assert entry["status"] == "rejected"
    assert (
        "the file has 100,006 columns; at most 1,000 are read (OEX_MAX_COLUMNS)"
        in (entry["message"])
    )
    assert len(entry["message"]) < 400


def test_a_row_with_thousands_of_stray_fields_keeps_a_short_record(warehouse, tmp_path):
    order_lines_file(tmp_path, f"{HEADER}\n{good_lines(1)[0]}{',x' * 50_000}\n")

    summary = ingest_table("order_lines", warehouse, tmp_path)

    assert accounting(summary) == (1, 0, 1, 0)
    ((_, _, reason),) = quarantined(warehouse, "order_lines")
    assert reason.startswith("the line has more fields (50006) than the header (6)")
    (record,) = warehouse.execute("select raw_record from raw.quarantine").fetchone()
    assert '"_extra_fields_not_shown":49980' in record.replace(" ", "")


def test_many_unknown_columns_are_listed_briefly(warehouse, tmp_path):
    entry = ledger_of_file_with_extra_columns(warehouse, tmp_path, 300)
    assert entry["status"] == "loaded"
    assert "extra_0, extra_1" in entry["message"]
    assert "and 290 more" in entry["message"]
    assert len(entry["message"]) < 400


def test_a_file_past_the_size_limit_is_refused_naming_the_setting(warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("OEX_MAX_FILE_MB", "1")
    order_lines_file(tmp_path, "\n".join([HEADER, *good_lines(60_000)]) + "\n")

    ingest_table("order_lines", warehouse, tmp_path)

    (entry,) = ledger(warehouse, "order_lines")
    assert entry["status"] == "rejected"
    assert "files up to 1 MB are read (OEX_MAX_FILE_MB)" in entry["message"]


def test_a_limit_setting_that_is_not_a_number_is_a_clear_error(monkeypatch):
    from pipelines.settings import file_limits

    monkeypatch.setenv("OEX_MAX_ROWS", "lots")
    with pytest.raises(ValueError, match="OEX_MAX_ROWS: 'lots' is not a positive whole number"):
        file_limits()
