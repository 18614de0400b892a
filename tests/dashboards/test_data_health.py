"""Data health: ingestion per domain, quarantine reasons, asset checks, freshness."""

from __future__ import annotations

from app_helpers import assert_no_exception, metrics, shown_texts, table_with

from dashboards import data


def test_ingestion_quarantine_and_checks_match_the_marts(open_page, read_mart):
    app = open_page("data_health")
    health = read_mart("rpt_ingestion_health")
    quarantine = read_mart("rpt_quarantine")
    checks = read_mart("asset_checks")

    domains = table_with(app, "数据域", "最近接入时间")
    names = {"orders": "订单", "stock": "库存", "logistics": "物流", "feedback": "客户反馈"}
    assert sorted(domains["数据域"]) == sorted(names[d] for d in health["domain"].unique())
    assert domains["隔离行数"].sum() == health["rows_quarantined"].sum()

    reasons = table_with(app, "原因", "行数")
    assert reasons["行数"].sum() == len(quarantine)
    assert set(reasons["原因"]) == set(quarantine["reason"])
    assert metrics(app)["隔离行数"][0] == f"{len(quarantine):,}"

    # the one check that did not pass is a warning, not a blocking failure: said as such
    warned = int((~checks["passed"] & (checks["severity"] == "WARN")).sum())
    assert warned == 1 and not (~checks["passed"] & (checks["severity"] == "ERROR")).any()
    assert shown_texts(app.error) == []
    assert f"{warned} 项检查有警告（不阻断）" in shown_texts(app.warning)
    shown_checks = table_with(app, "资产", "检查项", "结果")
    assert shown_checks["结果"].iloc[0] == "未通过"  # failures on top

    freshness = table_with(app, "数据集市", "更新时间")
    assert len(freshness) == len(data.MARTS) + 1  # and the asset checks
    assert freshness["大小"].str.contains("KB").all()


def test_missing_asset_checks_says_how_to_get_them(open_page, marts, tmp_path, monkeypatch):
    partial = tmp_path / "marts"
    partial.mkdir()
    for mart in marts.glob("*.parquet"):
        if mart.stem != "asset_checks":
            (partial / mart.name).symlink_to(mart)
    monkeypatch.setenv("OEX_MARTS", str(partial))
    app = open_page("data_health")
    assert_no_exception(app)
    assert any(
        "make pipeline" in text and "asset_checks.parquet" in text for text in shown_texts(app.info)
    )


def test_each_sources_missing_inputs_and_the_rules_they_switch_off(open_page, read_mart):
    from marts_fixture import MARKETPLACE_LACKS, MARKETPLACE_MERCHANT

    from dashboards.i18n import Catalogue

    zh = Catalogue("zh-CN")
    app = open_page("data_health")
    coverage = read_mart("rpt_source_coverage")

    shown = table_with(app, "所需信息", "未能判断的子类型")
    assert sorted(shown["所需信息"]) == sorted(zh.name("input", i) for i in MARKETPLACE_LACKS)
    assert set(shown["商家编号"]) == {MARKETPLACE_MERCHANT}
    receipts = shown[shown["所需信息"] == zh.name("input", "warehouse_receipts")]
    switched_off = receipts["未能判断的子类型"].iloc[0]
    for code in (
        coverage.loc[coverage["input"] == "warehouse_receipts", "rules_not_assessed"]
        .dropna()
        .iloc[0]
        .split(", ")
    ):
        assert zh.name("exception_type", code) in switched_off


def test_no_quarantined_row_says_so_rather_than_asking_to_widen_filters(
    open_page, marts, tmp_path, monkeypatch
):
    import pandas as pd

    clean = tmp_path / "clean-marts"
    clean.mkdir()
    for mart in marts.glob("*.parquet"):
        (clean / mart.name).symlink_to(mart)
    quarantine = pd.read_parquet(marts / "rpt_quarantine.parquet")
    (clean / "rpt_quarantine.parquet").unlink()
    quarantine.head(0).to_parquet(clean / "rpt_quarantine.parquet")
    monkeypatch.setenv("OEX_MARTS", str(clean))

    app = open_page("data_health")

    infos = shown_texts(app.info)
    assert any(text.startswith("没有被隔离的行") for text in infos)
    assert not any("放宽筛选条件" in text for text in infos)
