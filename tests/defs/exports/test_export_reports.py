"""Merchant report files: contents, isolation between merchants, safe paths, atomic re-export."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from report_weeks import LAST_WEEK, WEEK, WEEK_START_UTC
from risk_fixture import HOSTILE_ROUTE, LATE_PROBABILITIES, STOCK

from pipelines.defs.exports.reports import export_week


def file_text(path: Path) -> str:
    """Everything a merchant could find in a file: every part of an XLSX, or the HTML source."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return "\n".join(
                archive.read(name).decode("utf-8", errors="replace") for name in archive.namelist()
            )
    return path.read_text(encoding="utf-8")


def merchant_folders(exports: Path) -> dict[str, Path]:
    manifest = json.loads((exports / WEEK / "manifest.json").read_text(encoding="utf-8"))
    return {
        entry["merchant_id"]: (exports / WEEK / entry["path"]).parent for entry in manifest["files"]
    }


def test_each_merchant_file_holds_only_that_merchants_orders(
    marts, data_folders, fixture_merchants, languages_file
) -> None:
    export_week(WEEK, languages_file=languages_file)

    folders = merchant_folders(data_folders["exports"])
    assert set(folders) == {m.merchant_id for m in fixture_merchants}
    for merchant in fixture_merchants:
        files = sorted(folders[merchant.merchant_id].iterdir())
        assert [path.suffix for path in files] == [".html", ".xlsx"]
        own_orders = set(
            marts.query("merchant_id == @merchant.merchant_id and week == @WEEK")["order_id"]
        )
        foreign = set().union(
            *(other.identifiers for other in fixture_merchants if other is not merchant)
        )
        # the risk section: its own open orders from 30% and SKUs at risk, nobody else's
        risky = {merchant.risk_order_id(n) for n, p in enumerate(LATE_PROBABILITIES) if p >= 0.3}
        short = {
            f"SKU-{merchant.prefix}-{n}" for n, (cover, lead, _) in enumerate(STOCK) if cover < lead
        }
        for path in files:
            text = file_text(path)
            assert {order for order in own_orders if order not in text} == set(), path
            assert {found for found in risky | short if found not in text} == set(), path
            assert merchant.risk_order_id(3) not in text  # 12%: below what a report lists
            assert {found for found in foreign if found in text} == set(), path


def test_workbook_summary_compares_the_week_with_last_week(
    marts, data_folders, languages_file
) -> None:
    export_week(WEEK, languages_file=languages_file)

    folder = merchant_folders(data_folders["exports"])["MQX01"]
    book = openpyxl.load_workbook(next(folder.glob("*.xlsx")))
    assert book.sheetnames == [
        "概览",
        "本周异常",
        "重复问题",
        "处理建议",
        "下周风险",
        "判断覆盖",
        "指标说明",
    ]
    summary = {row[0]: row[1:4] for row in book["概览"].iter_rows(values_only=True) if row[0]}
    # 6 exceptions on 60 orders this week against 4 on 40 last week (see conftest).
    assert summary["订单量"] == (60, 40, 20)
    assert summary["异常数"] == (6, 4, 2)
    assert summary["未关闭异常"] == (2, 1, 1)
    assert summary["异常率"] == (0.1, 0.1, 0)
    # First response within SLA: 4 of 6 against 3 of 4 (the open ones had no response), a
    # change of -8.3 percentage points.
    assert summary["SLA 达成率"] == pytest.approx((4 / 6, 3 / 4, (4 / 6 - 3 / 4) * 100))

    exceptions = list(book["本周异常"].iter_rows(values_only=True))
    assert len(exceptions) == 1 + 6
    first = dict(zip(exceptions[0], exceptions[1], strict=True))
    # Placed 2026-11-08 18:00 UTC: Monday 02:00 in Shanghai, resolved half an hour later.
    assert first["订单号"] == "QX460000"
    assert first["异常类型"] == "缺货"
    assert str(first["发现时间"]) == "2026-11-09 02:00:00"
    assert str(first["解决时间"]) == "2026-11-09 02:30:00"
    assert first["处理结果"] == "已发货"
    # Root causes and actions in the merchant's language, from the dashboard's catalogue; the
    # rule's own action text where the catalogue does not know the root cause.
    header, *rows = book["处理建议"].iter_rows(values_only=True)
    by_type = {row[header.index("异常类型")]: dict(zip(header, row, strict=True)) for row in rows}
    assert by_type["缺货"]["根因"] == "补货策略不足"
    assert by_type["缺货"]["建议措施"] == "调整补货策略，或为热销 SKU 设置预售阈值"
    assert by_type["配送超时"]["根因"] == "carrier_relations_2027"
    assert by_type["配送超时"]["建议措施"] == "action for delivery_overdue"
    with zipfile.ZipFile(next(folder.glob("*.xlsx"))) as archive:
        charts = [name for name in archive.namelist() if name.startswith("xl/charts/chart")]
    assert len(charts) == 2
    # a customer's phone is masked in a file that leaves the warehouse
    recurring = [row[1] for row in book["重复问题"].iter_rows(min_row=2, values_only=True)]
    phone = "13900810088"  # MQX01's customer: 139, ord("Q"), ord("X") (conftest)
    assert phone[:3] + "****" + phone[-4:] in recurring and phone not in recurring


def test_language_follows_the_merchant_configuration(marts, data_folders, languages_file) -> None:
    export_week(WEEK, languages_file=languages_file)

    folder = merchant_folders(data_folders["exports"])["MBH02"]
    book = openpyxl.load_workbook(folder / f"exception-report-{WEEK}.xlsx")
    assert book.sheetnames == [
        "Summary",
        "Exceptions",
        "Recurring issues",
        "Suggested actions",
        "At risk next week",
        "Coverage",
        "Definitions",
    ]
    html = (folder / f"exception-report-{WEEK}.html").read_text(encoding="utf-8")
    assert "<html lang='en'>" in html
    assert "Out of stock" in html


def test_html_report_opens_offline_small_and_readable_on_a_phone(
    marts, data_folders, languages_file
) -> None:
    export_week(WEEK, languages_file=languages_file)

    folder = merchant_folders(data_folders["exports"])["MQX01"]
    path = next(folder.glob("*.html"))
    html = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 1_000_000
    assert "<script" not in html  # nothing to run or fetch: the charts are drawn in the file
    assert "width=device-width" in html and "class='scroll'" in html
    families = _between(html, "<figure id='chart-families'>", "</figure>")
    trend = _between(html, "<figure id='chart-trend'>", "</figure>")
    assert families.startswith("<svg") and trend.startswith("<svg")
    # the trend's axis starts at zero and reads as percentages, lowest tick first
    ticks = re.findall(r"text-anchor='end' fill='#555'>([^<]+)</text>", trend)
    assert ticks[0] == "0%" and all(tick.endswith("%") for tick in ticks)
    assert "星辰旗舰店" in html and "QX460005" in html
    assert "<td class='number'>-8.3 个百分点</td>" in html


def _between(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def test_files_and_dashboard_name_each_kpi_alike_and_define_it(
    marts, data_folders, languages_file
) -> None:
    from dashboards.i18n import Catalogue as DashboardCatalogue
    from pipelines.defs.exports.workbook import KPI_ROWS

    export_week(WEEK, languages_file=languages_file)
    folder = merchant_folders(data_folders["exports"])["MQX01"]  # reads zh-CN
    dashboard = DashboardCatalogue("zh-CN")
    named = {dashboard.text(f"kpi.{key}"): dashboard.text(f"kpi.help_{key}") for key, _ in KPI_ROWS}

    book = openpyxl.load_workbook(next(folder.glob("*.xlsx")))
    summary_names = [
        row[0] for row in book["概览"].iter_rows(min_row=8, max_col=1, values_only=True)
    ]
    assert summary_names[: len(KPI_ROWS)] == list(named)
    assert {"异常率", "SLA 达成率", "复发率"} <= set(summary_names)
    glossary = dict(book["指标说明"].iter_rows(min_row=2, values_only=True))
    assert glossary == named
    html = next(folder.glob("*.html")).read_text(encoding="utf-8")
    for name, definition in named.items():
        assert f"<td>{name}</td><td>{definition}</td>" in html


def test_manifest_lists_every_file_with_its_rows_and_checksum(
    marts, data_folders, languages_file
) -> None:
    written = export_week(WEEK, languages_file=languages_file)

    week_dir = data_folders["exports"] / WEEK
    manifest = json.loads((week_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["week"] == WEEK
    assert sorted(week_dir / e["path"] for e in manifest["files"]) == sorted(written[:-1])
    assert written[-1] == week_dir / "manifest.json"
    for entry in manifest["files"]:
        content = (week_dir / entry["path"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
        assert entry["bytes"] == len(content)
    rows = {e["merchant_id"]: e["rows"] for e in manifest["files"] if e["format"] == "xlsx"}
    assert rows["MQX01"] == {
        "exceptions": 6,
        "recurring_issues": 2,
        "suggested_actions": 3,
        "risk_orders": 3,
        "risk_skus": 2,
        "coverage": 0,
    }
    assert rows["MZK03"]["exceptions"] == 4


def test_crafted_merchant_names_write_nothing_outside_the_exports_folder(
    tmp_path, data_folders, rewrite_marts, make_merchant
) -> None:
    rewrite_marts(
        [
            make_merchant("../../M1", "../../etc", "EA", 2, 1),
            make_merchant("M2", "a/../../x", "EB", 2, 1),
            make_merchant("M3", "..", "EC", 1, 0),
        ]
    )
    before = {path for path in tmp_path.rglob("*") if data_folders["exports"] not in path.parents}

    written = export_week(WEEK)

    exports = data_folders["exports"].resolve()
    after = {path for path in tmp_path.rglob("*") if data_folders["exports"] not in path.parents}
    assert after - before == {data_folders["exports"]}
    assert all(exports in path.resolve().parents for path in written)
    names = sorted(p.name for p in (exports / WEEK).iterdir())
    # name, then the id; an id that is not plain carries a hash of itself
    assert names[:2] == ["M3", "a-x_M2"] and names[3] == "manifest.json"
    assert re.fullmatch(r"etc_M1-[0-9a-f]{6}", names[2])


def test_merchants_whose_names_clean_to_the_same_folder_each_get_their_own(
    data_folders, rewrite_marts, make_merchant
) -> None:
    rewrite_marts(
        [
            make_merchant("M001", "优品/旗舰", "EA", 2, 1),
            make_merchant("M002", "优品-旗舰", "EB", 2, 1),
            make_merchant("m002", "优品 旗舰", "EC", 1, 0),  # differs from M002 by case only
        ]
    )
    export_week(WEEK)
    folders = merchant_folders(data_folders["exports"])
    assert len(set(folders.values())) == 3
    assert len({str(folder).casefold() for folder in folders.values()}) == 3
    assert folders["M001"].name == "优品-旗舰_M001"
    # exporting one merchant again lands in the same folder as the full export
    export_week(WEEK, "M002")
    assert merchant_folders(data_folders["exports"])["M002"] == folders["M002"]


def test_re_export_replaces_the_week_with_exactly_the_new_files(
    marts, data_folders, fixture_merchants, rewrite_marts, languages_file
) -> None:
    first = export_week(WEEK, languages_file=languages_file)
    checksums = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in first}
    # A run killed half-way left its staging folder behind.
    (data_folders["exports"] / f".{WEEK}.staging-killed" / "junk").mkdir(parents=True)

    again = export_week(WEEK, languages_file=languages_file)
    assert {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in again} == checksums

    rewrite_marts(fixture_merchants[:2])  # the third merchant has no rows in a rebuilt week
    final = export_week(WEEK, languages_file=languages_file)

    exports = data_folders["exports"]
    assert sorted(exports.iterdir()) == [exports / WEEK]
    assert {path for path in (exports / WEEK).rglob("*") if path.is_file()} == set(final)
    assert set(merchant_folders(exports)) == {"MQX01", "MBH02"}


def test_exporting_one_merchant_leaves_the_others_untouched(
    marts, data_folders, languages_file
) -> None:
    everything = export_week(WEEK, languages_file=languages_file)
    others = {
        p: p.read_bytes()
        for p in everything
        if p.name != "manifest.json" and "Blue-Harbor" not in str(p)
    }

    only = export_week(WEEK, merchant_id="MBH02", languages_file=languages_file)

    assert [p.parent.name for p in only[:-1]] == ["Blue-Harbor-Trading_MBH02"] * 2
    assert {p: p.read_bytes() for p in others} == others
    week_dir = data_folders["exports"] / WEEK
    manifest = json.loads((week_dir / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(week_dir / e["path"] for e in manifest["files"]) == sorted(everything[:-1])


def test_unknown_merchant_missing_marts_and_bad_week_fail_clearly(data_folders, marts) -> None:
    with pytest.raises(ValueError, match="NOPE"):
        export_week(WEEK, merchant_id="NOPE")
    with pytest.raises(ValueError, match="2026-W46"):
        export_week("../2026-W46")
    (data_folders["marts"] / "rpt_weekly_kpis.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="oex run"):
        export_week(WEEK)
    assert not (data_folders["exports"] / WEEK).exists()


def test_a_provisional_week_says_so_and_meets_last_week_at_the_same_age(
    marts, data_folders, languages_file
) -> None:
    from datetime import timedelta

    import pandas as pd

    folder = data_folders["marts"]
    # Two of last week's failures were found late (ten days after the week began, as
    # logistics failures are); this week is five days old.
    facts = pd.read_parquet(folder / "fct_order_exceptions.parquet")
    late = (facts["merchant_id"] == "MQX01") & (facts["week"] == LAST_WEEK)
    late &= facts["order_id"].str.endswith(("0002", "0003"))
    facts.loc[late, "detected_at"] = WEEK_START_UTC + timedelta(days=3)
    facts.to_parquet(folder / "fct_order_exceptions.parquet", index=False)
    maturity = pd.read_parquet(folder / "rpt_week_maturity.parquet")
    maturity["as_of"] = WEEK_START_UTC + timedelta(days=5)
    maturity.loc[maturity["week"] == WEEK, ["is_mature", "expected_share_visible"]] = [False, 0.6]
    maturity.to_parquet(folder / "rpt_week_maturity.parquet", index=False)

    export_week(WEEK, languages_file=languages_file)

    workbook = next(merchant_folders(data_folders["exports"])["MQX01"].glob("*.xlsx"))
    summary = list(openpyxl.load_workbook(workbook)["概览"].iter_rows(values_only=True))
    notes = [row[0] for row in summary if row[0] and "尚未完整" in str(row[0])]
    assert notes and "60%" in notes[0]
    figures = {row[0]: row[1:4] for row in summary if row[0]}
    # last week at the same age (found by as_of minus seven days): 2 of its 4 failures
    assert figures["异常数"] == (6, 2, 4)


def test_the_coverage_sheet_names_the_types_that_could_not_judge_every_order(
    marts, data_folders, languages_file
) -> None:
    import pandas as pd

    folder = data_folders["marts"]
    coverage = pd.read_parquet(folder / "rpt_exception_coverage.parquet")
    mine = (coverage["merchant_id"] == "MQX01") & (coverage["exception_type"] == "out_of_stock")
    coverage.loc[mine, "orders_assessed"] = 0
    coverage.to_parquet(folder / "rpt_exception_coverage.parquet", index=False)

    export_week(WEEK, languages_file=languages_file)

    folders = merchant_folders(data_folders["exports"])
    book = openpyxl.load_workbook(next(folders["MQX01"].glob("*.xlsx")))
    rows = list(book["判断覆盖"].iter_rows(values_only=True))
    assert rows[0][:5] == ("异常类型", "异常大类", "订单量", "已判断订单", "判断覆盖率")
    assert rows[1][:5] == ("缺货", "库存异常", 60, 0, 0)
    other = openpyxl.load_workbook(next(folders["MBH02"].glob("*.xlsx")))
    assert len(list(other["Coverage"].iter_rows(values_only=True))) == 1 + 1 + 1  # no row


def _risk_rows(sheet) -> dict[str, list[dict]]:
    """The risk sheet's lists, by their title's first words: rows as header -> value."""
    lists: dict[str, list[dict]] = {}
    rows = list(sheet.iter_rows(values_only=True))
    for number, row in enumerate(rows):
        title = row[0]
        if (
            isinstance(title, str)
            and number + 1 < len(rows)
            and rows[number + 1][0]
            in (
                "订单号",
                "SKU",
                "Order",
            )
        ):
            header = [cell for cell in rows[number + 1] if cell]
            body = []
            for values in rows[number + 2 :]:
                if not values[0] or values[1] is None:
                    break
                body.append(dict(zip(header, values, strict=False)))
            lists[title] = body
    return lists


def test_the_risk_sheet_lists_the_merchants_own_orders_and_skus_most_at_risk_first(
    marts, data_folders, fixture_merchants, languages_file
) -> None:
    from pipelines import catalogue

    export_week(WEEK, languages_file=languages_file)

    merchant = fixture_merchants[0]  # MQX01 reads zh-CN
    folder = merchant_folders(data_folders["exports"])[merchant.merchant_id]
    book = openpyxl.load_workbook(next(folder.glob("*.xlsx")))
    sheet = book["下周风险"]
    notes = [row[0] for row in sheet.iter_rows(max_row=3, values_only=True) if row[0]]
    # when and with which model, and what a probability means, before the lists
    assert "2026-11-16 10:00" in notes[1] and "hgb-test" in notes[1] and "ets-test" in notes[1]
    assert "校准" in notes[2]
    lists = _risk_rows(sheet)
    orders, skus = lists["可能逾期的订单（逾期概率 ≥ 30%）"], lists["补货到达前可能卖完的 SKU"]
    # 82%, 45%, 31%; the 12% order is not listed
    assert [row["订单号"] for row in orders] == [
        merchant.risk_order_id(1),
        merchant.risk_order_id(0),
        merchant.risk_order_id(2),
    ]
    assert [row["逾期概率"] for row in orders] == [0.82, 0.45, 0.31]
    handoff = catalogue.exception_types()["late_handoff"]
    assert orders[0]["可能发生的异常"] == handoff.names["zh-CN"]
    # what the merchant can do: the action of the cause, in Chinese; the internal handling
    # guideline the mart carries stays internal, as everywhere in the file
    causes = catalogue.root_causes()
    assert orders[0]["建议措施"] == causes[handoff.root_cause].actions["zh-CN"]
    assert orders[0]["负责团队"] == "仓库" and orders[1]["快递公司"] == "中通"
    # SKUs that run out before replenishment, most expected impact first
    assert [row["SKU"] for row in skus] == ["SKU-QX-1", "SKU-QX-0"]
    assert skus[0]["可售天数"] == 1.5 and skus[0]["补货周期（天）"] == 5
    assert skus[0]["断货概率"] == 0.9  # a share, shown as a percentage
    assert skus[0]["建议措施"] == causes["replenishment_policy"].actions["zh-CN"]
    guidelines = {
        text for kind in catalogue.exception_types().values() for text in kind.guidelines.values()
    }
    assert not {text for text in guidelines if text in file_text(next(folder.glob("*.xlsx")))}
    # a route that is a formula in the partner's export stays text in the merchant's file
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == HOSTILE_ROUTE]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_the_html_risk_section_is_translated_and_shows_data_as_text(
    marts, data_folders, languages_file
) -> None:
    from pipelines import catalogue

    export_week(WEEK, languages_file=languages_file)

    folder = merchant_folders(data_folders["exports"])["MBH02"]  # reads English
    html = next(folder.glob("*.html")).read_text(encoding="utf-8")
    section = _between(html, "<h2 id='risk'>", "<h2>")
    assert section.startswith("At risk next week</h2>")
    assert "<h3>Orders likely to be late (late probability 30% or more)</h3>" in section
    assert "<h3>SKUs likely to sell out before replenishment arrives</h3>" in section
    assert "BHR001" in section and "BHR003" not in section
    assert "<td class='number'>82.0%</td>" in section
    assert "Escalate the parcel" not in section  # the internal guideline stays internal
    assert catalogue.root_causes()["carrier_capacity"].actions["en"] in section
    assert "<img" not in section and "&lt;img src=x onerror=alert(1)&gt;" in section


def test_without_risk_marts_the_section_says_there_is_not_enough_history(
    marts, data_folders, languages_file
) -> None:
    for name in ("rpt_delivery_risk", "rpt_stockout_risk"):
        (data_folders["marts"] / f"{name}.parquet").unlink()

    export_week(WEEK, languages_file=languages_file)

    folders = merchant_folders(data_folders["exports"])
    book = openpyxl.load_workbook(next(folders["MQX01"].glob("*.xlsx")))
    notes = [row[0] for row in book["下周风险"].iter_rows(values_only=True) if row[0]]
    assert notes == [
        "下周风险",
        "历史数据还不够，暂时无法评估下周风险；积累约四周结果已知的订单后，报告会给出。",
    ]
    html = next(folders["MBH02"].glob("*.html")).read_text(encoding="utf-8")
    assert "Not enough history yet to tell next week&#x27;s risk" in html


def test_empty_risk_marts_and_an_older_week_show_no_risk_list(
    marts, data_folders, languages_file
) -> None:
    import pandas as pd

    # a week whose next week is past does not carry today's risk
    export_week(LAST_WEEK, languages_file=languages_file)
    manifest = json.loads(
        (data_folders["exports"] / LAST_WEEK / "manifest.json").read_text(encoding="utf-8")
    )
    assert {entry["rows"]["risk_orders"] for entry in manifest["files"]} == {0}
    html = next((data_folders["exports"] / LAST_WEEK).rglob("*MBH02/*.html")).read_text("utf-8")
    assert "which is not the week after this report&#x27;s week" in html

    # a build without enough history writes the marts empty
    path = data_folders["marts"] / "rpt_delivery_risk.parquet"
    pd.read_parquet(path).iloc[0:0].to_parquet(path, index=False)
    export_week(WEEK, languages_file=languages_file)
    folder = merchant_folders(data_folders["exports"])["MQX01"]
    lists = _risk_rows(openpyxl.load_workbook(next(folder.glob("*.xlsx")))["下周风险"])
    assert list(lists) == ["补货到达前可能卖完的 SKU"]  # the SKUs are still scored
    text = file_text(next(folder.glob("*.html")))
    assert "历史数据还不够，暂时无法评估订单逾期风险。" in text
