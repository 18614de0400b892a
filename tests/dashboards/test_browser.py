"""The running dashboard in a real browser: Debian's Chromium driven by Playwright.

Starts `streamlit run` on a free port against fixture marts, switches pages and language,
saves screenshots under test-output/, and fails on any Streamlit exception box or console
error. The second test rewrites the marts the way the pipeline does (atomic replace) while
pages are being requested. Never run `playwright install`: the browser is /usr/bin/chromium.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from marts_fixture import LAST_COMPLETE_WEEK, build_marts, write_risk_report
from playwright.sync_api import Page, expect, sync_playwright

pytestmark = pytest.mark.browser

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = PROJECT_ROOT / "test-output" / "screenshots"
CHROMIUM = os.environ.get("OEX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
EXCEPTION_BOX = '[data-testid="stException"]'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def served_marts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("served-marts")
    build_marts(directory)
    return directory


@pytest.fixture(scope="module")
def server(served_marts: Path, tmp_path_factory: pytest.TempPathFactory):
    port = _free_port()
    reports = tmp_path_factory.mktemp("reports")
    write_risk_report(reports)  # the last replay of `oex evaluate`: the risk page's record
    environment = {
        **os.environ,
        "OEX_MARTS": str(served_marts),
        "OEX_REPORTS": str(reports),
        "OEX_LANGUAGE": "zh-CN",
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "dashboards" / "streamlit_app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    log = (PROJECT_ROOT / "test-output").joinpath("streamlit-server.log")
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as output:
        process = subprocess.Popen(
            command, env=environment, stdout=output, stderr=output, cwd=PROJECT_ROOT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(url, process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)


def _wait_until_healthy(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("streamlit exited; see test-output/streamlit-server.log")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError("streamlit did not become healthy within 60 s")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


class Watched:
    """A page whose console errors and uncaught errors are collected."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on(
            "console",
            lambda message: (
                message.type == "error" and self.errors.append(f"console: {message.text}")
            ),
        )
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        # A reload aborts requests still in flight; that is the browser, not the app.
        page.on(
            "requestfailed",
            lambda request: (
                "ERR_ABORTED" not in (request.failure or "")
                and self.errors.append(f"request failed: {request.url} ({request.failure})")
            ),
        )

    def settle(self) -> None:
        """Wait until the script run is over and the page shows no running widget."""
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_selector('[data-testid="stApp"]')
        expect(self.page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=30_000)
        self.page.wait_for_timeout(500)

    def assert_healthy(self, where: str) -> None:
        boxes = self.page.locator(EXCEPTION_BOX)
        assert boxes.count() == 0, f"{where}: {boxes.first.inner_text()}"
        assert not self.errors, f"{where}: {self.errors}"

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        # Streamlit scrolls inside its main container, so a full-page shot needs a viewport
        # as tall as that container's content.
        height = self.page.evaluate(
            "() => (document.querySelector('[data-testid=\"stMain\"]') || document.body)"
            ".scrollHeight"
        )
        viewport = self.page.viewport_size
        self.page.set_viewport_size({"width": viewport["width"], "height": min(height, 8000)})
        self.page.wait_for_timeout(1000)
        self.page.screenshot(path=str(path), full_page=True)
        self.page.set_viewport_size(viewport)
        return path


@pytest.fixture
def watched(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield Watched(page)
    context.close()


def _go_to(watched: Watched, link_text: str) -> None:
    watched.page.locator('[data-testid="stSidebarNav"] a', has_text=link_text).click()
    watched.settle()


def _choose_language(watched: Watched, label: str, option: str) -> None:
    watched.page.get_by_role("combobox", name=label).click()
    watched.page.get_by_role("option", name=option).click()
    watched.settle()


def _tile(watched: Watched, label: str) -> str:
    tile = watched.page.locator('[data-testid="stMetric"]', has_text=label).first
    return tile.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_every_page_in_both_languages(server, watched, served_marts):
    page = watched.page
    page.goto(server)
    watched.settle()
    expect(page.get_by_role("heading", name="周复盘")).to_be_visible()
    # served from here, not deployed to a cloud: no "Deploy" button (.streamlit/config.toml)
    expect(page.locator('[data-testid="stAppDeployButton"]')).to_have_count(0)
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
    orders = pd.read_parquet(served_marts / "fct_orders.parquet")
    week_orders = int((orders["week"] == LAST_COMPLETE_WEEK).sum())
    assert _tile(watched, "订单量") == f"{week_orders:,}"
    delivery_risk = pd.read_parquet(served_marts / "rpt_delivery_risk.parquet")
    at_risk = delivery_risk[delivery_risk["late_probability"] >= 0.3]
    # the panels of the review: first response against its SLA, who owns each cause, what
    # changed, special requests apart, and the rules that could not judge every order
    for heading in (
        "各子类型首次响应与时限",
        "根因、负责团队与建议措施",
        "较上周的变化",
        "特殊需求",
    ):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_text(re.compile(r"本周有 \d+ 个子类型未能判断全部订单"))).to_be_visible()
    watched.assert_healthy("weekly review zh")
    watched.shot("01_weekly_review_zh")

    for number, (link, heading, name) in enumerate(
        [
            ("根因分析", "根因分析", "root_causes_zh"),
            ("异常明细与订单轨迹", "异常明细", "exception_list_zh"),
            ("风险预警", "风险预警", "risk_watch_zh"),
            ("数据健康", "数据健康", "data_health_zh"),
        ],
        start=2,
    ):
        _go_to(watched, link)
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        watched.assert_healthy(name)
        watched.shot(f"{number:02d}_{name}")
        if name == "risk_watch_zh":
            # the tile a manager reads first, and both lists with their charts
            assert _tile(watched, "有逾期风险的订单") == f"{len(at_risk):,}"
            expect(
                page.get_by_role("heading", name="逾期风险：最可能逾期的未完成订单")
            ).to_be_visible()
            expect(
                page.get_by_role("heading", name="缺货风险：补货到达前会卖完的 SKU")
            ).to_be_visible()
            expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(2)
            # how the flags did when last replayed: the stock-out flags that came true
            assert _tile(watched, "缺货预警的应验率") == "59.6%"
    expect(page.get_by_role("heading", name="各数据来源为规则提供的信息")).to_be_visible()

    _choose_language(watched, "语言", "English")
    expect(page.get_by_role("heading", name="Data health")).to_be_visible()
    watched.assert_healthy("data health en")
    watched.shot("05_data_health_en")

    _go_to(watched, "Weekly review")
    expect(page.get_by_role("heading", name="Weekly review")).to_be_visible()
    assert _tile(watched, "Orders") == f"{week_orders:,}"
    watched.assert_healthy("weekly review en")
    watched.shot("06_weekly_review_en")

    _go_to(watched, "Root-cause explorer")
    watched.assert_healthy("root causes en")
    watched.shot("07_root_causes_en")

    _go_to(watched, "Exceptions and order timeline")
    first_order = page.locator('[data-testid="stTextInput"] input')
    exceptions = pd.read_parquet(served_marts / "fct_order_exceptions.parquet")
    an_order = exceptions.loc[exceptions["week"] == LAST_COMPLETE_WEEK, "order_id"].iloc[0]
    first_order.fill(an_order)
    first_order.press("Enter")
    watched.settle()
    expect(page.get_by_role("heading", name=f"Timeline of order {an_order}")).to_be_visible()
    watched.assert_healthy("exception list en")
    watched.shot("08_exception_list_timeline_en")

    _go_to(watched, "Risk watch")
    expect(page.get_by_role("heading", name="Risk watch")).to_be_visible()
    assert _tile(watched, "Open orders at risk") == f"{len(at_risk):,}"
    expect(
        page.get_by_role("heading", name="Late delivery: open orders most likely to end late")
    ).to_be_visible()
    page.get_by_text("What the probability means, and its limits").click()
    expect(page.get_by_text("calibrated on that history", exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="How these flags did: the last replay")).to_be_visible()
    assert _tile(watched, "Late-delivery ROC AUC") == "0.83"
    watched.assert_healthy("risk watch en")
    watched.shot("13_risk_watch_en")


def test_marts_rewritten_during_requests_show_the_new_numbers(server, watched, served_marts):
    page = watched.page
    page.goto(server)
    watched.settle()
    before = _tile(watched, "订单量")

    stop = threading.Event()
    rewrites: list[int] = []
    failures: list[BaseException] = []

    def pipeline_runs() -> None:
        # Alternate between two versions of the data, as repeated pipeline runs would.
        try:
            while not stop.is_set():
                build_marts(served_marts, seed=8 + len(rewrites) % 2, orders_per_day=45)
                rewrites.append(1)
        except BaseException as error:  # surfaced in the main thread below
            failures.append(error)

    writer = threading.Thread(target=pipeline_runs, daemon=True)
    writer.start()
    try:
        for round_number in range(6):
            for link in ("根因分析", "异常明细与订单轨迹", "风险预警", "数据健康", "周复盘"):
                _go_to(watched, link)
                watched.assert_healthy(f"round {round_number}, {link}, while rewriting")
            page.reload()
            watched.settle()
            watched.assert_healthy(f"round {round_number}, reload while rewriting")
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not failures, failures
    assert len(rewrites) >= 2, "the marts were not rewritten while pages were requested"

    final = build_marts(served_marts, seed=9, orders_per_day=60)
    orders = pd.read_parquet(final["fct_orders"])
    expected = f"{int((orders['week'] == LAST_COMPLETE_WEEK).sum()):,}"
    page.reload()
    watched.settle()
    assert _tile(watched, "订单量") == expected != before
    watched.assert_healthy("after the last rewrite")
    watched.shot("09_weekly_review_after_rewrite")
    assert re.fullmatch(r"[\d,]+", expected)


def test_a_click_on_a_bar_opens_its_exceptions(server, watched):
    page = watched.page
    page.goto(server)
    watched.settle()
    _go_to(watched, "根因分析")
    # The second chart is the bars per dimension value (the first is the heatmap); the
    # biggest value comes first. Plotly takes clicks on its drag layer, so click where a bar is
    # drawn, once the chart is scrolled into the viewport.
    bars = page.locator('[data-testid="stPlotlyChart"]').nth(1)
    first_bar = bars.locator("g.trace.bars path").first
    bars.scroll_into_view_if_needed()
    expect(first_bar).to_be_visible()
    box = first_bar.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    watched.settle()

    expect(page.get_by_role("heading", name="异常明细")).to_be_visible()
    expect(page.get_by_text(re.compile(r"已按 .+ = .+ 筛选"))).to_be_visible()
    watched.assert_healthy("drill from a bar")
    watched.shot("10_drill_from_a_bar")

    # Back on the explorer, the chart still shows its selection: that click was followed
    # already, so the page stays.
    _go_to(watched, "根因分析")
    page.wait_for_timeout(1500)
    expect(page.get_by_role("heading", name="根因分析")).to_be_visible()
    watched.assert_healthy("back on the explorer")


def test_a_provisional_week_is_marked_and_compared_at_the_same_age(server, watched):
    page = watched.page
    page.goto(server)
    watched.settle()
    page.get_by_role("combobox", name="ISO 周").click()
    page.get_by_role("option", name="2026-W47（未完整）").click()
    watched.settle()

    expect(page.get_by_text(re.compile(r"2026-W47 尚未完整：预计目前只能看到约"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"较上周（2026-W46）同期"))).to_be_visible()
    watched.assert_healthy("provisional week")
    watched.shot("11_provisional_week_zh")

    _choose_language(watched, "语言", "English")
    expect(page.get_by_text(re.compile(r"2026-W47 is provisional"))).to_be_visible()
    watched.assert_healthy("provisional week en")
    watched.shot("12_provisional_week_en")


@pytest.mark.parametrize(
    ("language", "merchant", "viewport"),
    [
        ("zh-CN", "M001", {"width": 390, "height": 844}),  # a phone
        ("en", "M002", {"width": 390, "height": 844}),
        ("zh-CN", "M001", {"width": 1280, "height": 900}),
    ],
)
def test_the_merchant_html_reads_on_a_phone_and_a_desk(
    browser, served_marts, tmp_path, monkeypatch, language, merchant, viewport
):
    from pipelines.defs.exports.reports import export_week

    monkeypatch.setenv("OEX_MARTS", str(served_marts))
    monkeypatch.setenv("OEX_EXPORTS", str(tmp_path / "exports"))
    languages = tmp_path / "merchants.yml"
    languages.write_text(f"default_language: zh-CN\nmerchants:\n  {merchant}: {language}\n")
    written = export_week(LAST_COMPLETE_WEEK, merchant, languages_file=languages)
    (html,) = [path for path in written if path.suffix == ".html"]
    assert html.stat().st_size < 1_000_000

    context = browser.new_context(viewport=viewport, locale=language)
    page = context.new_page()
    watched = Watched(page)
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    # Nothing wider than the screen: wide tables scroll inside their own box.
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, overflow
    for chart in ("#chart-families svg", "#chart-trend svg"):
        box = page.locator(chart).bounding_box()
        assert box and 0 < box["width"] <= viewport["width"] and box["height"] > 150, chart
    title = "订单异常周报" if language == "zh-CN" else "Weekly order exception report"
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert not watched.errors, watched.errors
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    device = "phone" if viewport["width"] < 600 else "desktop"
    page.screenshot(
        path=str(SCREENSHOTS / f"merchant-report-{language}-{device}.png"), full_page=True
    )
    context.close()
