"""Data health: ingestion per domain, quarantine reasons, asset checks, freshness."""

from __future__ import annotations

from app_helpers import assert_no_exception, metrics, shown_texts, table_with


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

    failed = int((~checks["passed"]).sum())
    assert shown_texts(app.error) == [f"{failed} 项检查未通过"]
    shown_checks = table_with(app, "资产", "检查项", "结果")
    assert shown_checks["结果"].iloc[0] == "未通过"  # failures on top

    freshness = table_with(app, "数据集市", "更新时间")
    assert len(freshness) == 12 and freshness["大小"].str.contains("KB").all()


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
