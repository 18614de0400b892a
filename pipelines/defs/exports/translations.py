"""The words of a merchant report in each language, and which language each merchant reads.

Codes (exception types, families, root causes, resolutions) stay codes in the marts; the
report shows the merchant their names from the dashboard's catalogue. A code without a name is
shown as the code, so a new rule never breaks a report, it only reads less nicely until a name
is added to dashboards/i18n.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from dashboards.i18n import Catalogue as DashboardCatalogue
from pipelines import catalogue as exception_catalogue

DEFAULT_LANGUAGE = "zh-CN"
LANGUAGES_FILE = Path(__file__).with_name("merchants.yml")

TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "订单异常周报",
        "file_stem": "订单异常周报",
        "merchant": "商家",
        "week": "周",
        "period": "统计周期",
        "timezone_note": "时间均为 {timezone} 当地时间",
        "sheet_summary": "概览",
        "sheet_exceptions": "本周异常",
        "sheet_recurring": "重复问题",
        "sheet_actions": "处理建议",
        "sheet_glossary": "指标说明",
        "definition": "定义",
        "kpi": "指标",
        "this_week": "本周",
        "last_week": "上周",
        "change": "变化",
        "by_family": "按异常大类",
        "trend": "近八周异常率",
        "family": "异常大类",
        "exception_type": "异常类型",
        "order_id": "订单号",
        "priority": "优先级",
        "owner_team": "负责团队",
        "placed_at": "下单时间",
        "detected_at": "发现时间",
        "resolved_at": "解决时间",
        "resolution": "处理结果",
        "handling_hours": "处理时长（小时）",
        "is_within_sla": "是否在时效内",
        "status": "状态",
        "root_cause": "根因",
        "suggested_action": "建议措施",
        "handling_guideline": "处理规范",
        "key_type": "重复维度",
        "recurrence_key": "重复对象",
        "occurrences": "发生次数",
        "first_detected_at": "首次发现",
        "last_detected_at": "最近发现",
        "last_week_seen": "最近一周",
        "yes": "是",
        "no": "否",
        "open": "处理中",
        "overdue": "已超时",
        "closed": "已关闭",
        "no_rows": "本周无记录",
        "kind": "类别",
        "orders_assessed": "已判断订单",
        "assessed_share": "判断覆盖率",
        "sheet_coverage": "判断覆盖",
        "coverage_note": (
            "这些异常类型只判断了部分订单：您的数据来源没有提供该规则需要的信息"
            "（例如没有仓储系统记录或收件人信息）。未判断的订单不计入异常。"
        ),
        "provisional_note": (
            "本周尚未完整：物流和错漏发异常在下单数天后才出现，"
            "目前预计可见约 {share}。与上周的比较按同期（上周同一时点）计算。"
        ),
        "share_of_exceptions": "占本周异常",
        "points": "个百分点",
        "sheet_risk": "下周风险",
        "risk_as_of": "按截至 {as_of} 的数据评估（模型 {model}）；每项按预期影响从高到低排列。",
        "risk_note": (
            "逾期概率是按历史校准的可能性，不是定论：10 个概率为 30% 的订单，预计约 3 个会逾期。"
            "可售天数 = 可用库存 ÷ 预测日需求；"
            "断货概率是下一批补货到达前有订单因无货而受影响的可能性，达 30% 即列出。"
            "新的线路、恶劣天气或比以往更大的促销不在历史里，模型无法预见。"
        ),
        "risk_no_history": (
            "历史数据还不够，暂时无法评估下周风险；积累约四周结果已知的订单后，报告会给出。"
        ),
        "risk_other_week": (
            "风险按截至 {as_of} 的数据评估，不是本报告所属周的下一周；请看最新一周的报告。"
        ),
        "risk_orders": "可能逾期的订单（逾期概率 ≥ {threshold}）",
        "risk_skus": "补货到达前可能卖完的 SKU",
        "risk_no_orders": "没有订单的逾期概率达到 {threshold}。",
        "risk_no_skus": "没有 SKU 会在补货到达前卖完。",
        "risk_orders_no_history": "历史数据还不够，暂时无法评估订单逾期风险。",
        "risk_skus_no_history": "历史数据还不够，暂时无法评估缺货风险。",
        "risk_type": "可能发生的异常",
        "stage": "所处环节",
        "route": "线路",
        "carrier": "快递公司",
        "due_at": "截止时间",
        "late_probability": "逾期概率",
        "sku": "SKU",
        "warehouse": "仓库",
        "available": "可用库存",
        "forecast_daily_demand": "预测日需求",
        "days_of_cover": "可售天数",
        "lead_time_days": "补货周期（天）",
        "expected_stockout_date": "预计断货日期",
        "stockout_probability": "断货概率",
        "open_orders": "待发订单",
        "expected_orders": "预计新增订单",
    },
    "en": {
        "title": "Weekly order exception report",
        "file_stem": "exception-report",
        "merchant": "Merchant",
        "week": "Week",
        "period": "Period",
        "timezone_note": "All times are local time of {timezone}",
        "sheet_summary": "Summary",
        "sheet_exceptions": "Exceptions",
        "sheet_recurring": "Recurring issues",
        "sheet_actions": "Suggested actions",
        "sheet_glossary": "Definitions",
        "definition": "Definition",
        "kpi": "Indicator",
        "this_week": "This week",
        "last_week": "Last week",
        "change": "Change",
        "by_family": "By exception family",
        "trend": "Exception rate, last eight weeks",
        "family": "Family",
        "exception_type": "Exception type",
        "order_id": "Order",
        "priority": "Priority",
        "owner_team": "Owner team",
        "placed_at": "Placed",
        "detected_at": "Detected",
        "resolved_at": "Resolved",
        "resolution": "Resolution",
        "handling_hours": "Handling hours",
        "is_within_sla": "Within SLA",
        "status": "Status",
        "root_cause": "Root cause",
        "suggested_action": "Suggested action",
        "handling_guideline": "Handling guideline",
        "key_type": "Recurs by",
        "recurrence_key": "Recurring on",
        "occurrences": "Occurrences",
        "first_detected_at": "First detected",
        "last_detected_at": "Last detected",
        "last_week_seen": "Last week seen",
        "yes": "yes",
        "no": "no",
        "open": "open",
        "overdue": "overdue",
        "closed": "closed",
        "no_rows": "Nothing this week",
        "kind": "Kind",
        "orders_assessed": "Orders assessed",
        "assessed_share": "Assessed",
        "sheet_coverage": "Coverage",
        "coverage_note": (
            "These exception types judged only part of your orders: your "
            "data source does not give the rule what it needs (for example "
            "warehouse-system records or receiver details). Orders not judged "
            "are not counted as exceptions."
        ),
        "provisional_note": (
            "This week is provisional: logistics and fulfilment exceptions "
            "appear days after the order, about {share} are expected to be "
            "visible yet. Last week is compared at the same age."
        ),
        "share_of_exceptions": "Share of the week's exceptions",
        "points": "pp",
        "sheet_risk": "At risk next week",
        "risk_as_of": (
            "Scored on data up to {as_of} (model {model}); each list most expected impact first."
        ),
        "risk_note": (
            "A late probability is a chance calibrated on history, not a verdict: of ten "
            "orders at 30%, about three are expected to end late. Days of cover = available "
            "stock ÷ forecast daily demand; the stock-out probability is the chance that an "
            "order finds no stock before the next replenishment is in, listed from 30%. A new "
            "route, bad weather or a promotion bigger than any before is not in the history, "
            "and the model cannot foresee it."
        ),
        "risk_no_history": (
            "Not enough history yet to tell next week's risk; the report shows it once about "
            "four weeks of orders with a known outcome are in."
        ),
        "risk_other_week": (
            "The risk was scored on data up to {as_of}, which is not the week after this "
            "report's week: see the latest week's report."
        ),
        "risk_orders": "Orders likely to be late (late probability {threshold} or more)",
        "risk_skus": "SKUs likely to sell out before replenishment arrives",
        "risk_no_orders": "No order has a late probability of {threshold} or more.",
        "risk_no_skus": "No SKU sells out before replenishment can arrive.",
        "risk_orders_no_history": "Not enough history yet to tell which orders may be late.",
        "risk_skus_no_history": "Not enough history yet to tell which SKUs may sell out.",
        "risk_type": "Heading for",
        "stage": "Stage",
        "route": "Route",
        "carrier": "Carrier",
        "due_at": "Due by",
        "late_probability": "Late probability",
        "sku": "SKU",
        "warehouse": "Warehouse",
        "available": "Available",
        "forecast_daily_demand": "Forecast daily demand",
        "days_of_cover": "Days of cover",
        "lead_time_days": "Lead time (days)",
        "expected_stockout_date": "Expected stock-out date",
        "stockout_probability": "Stock-out probability",
        "open_orders": "Open orders",
        "expected_orders": "Expected orders",
    },
}

# The codes the marts carry are named by the dashboard's catalogue (dashboards/i18n), so a
# sub-type, family or root cause reads the same in the review meeting and in the merchant's
# file. Sections are searched in this order; the first that knows the code names it.
CODE_SECTIONS = (
    "family",
    "exception_type",
    "root_cause",
    "resolution",
    "owner_team",
    "key_type",
    "kind",
    "stage",
    "carrier",
)


@dataclass(frozen=True)
class Catalogue:
    """Everything a report needs to speak one language."""

    language: str

    def text(self, key: str, **values: object) -> str:
        if key not in TEXT[self.language]:
            return self.kpi(key)
        text = TEXT[self.language][key]
        return text.format(**values) if values else text

    def kpi(self, key: str) -> str:
        """A KPI's name from the one glossary the dashboard shows too (dashboards/i18n
        `kpi:`), so the file and the review meeting call a figure the same."""
        return DashboardCatalogue(self.language).text(f"kpi.{key}")

    def definition(self, key: str) -> str:
        """What a KPI counts, from the same glossary."""
        return DashboardCatalogue(self.language).text(f"kpi.help_{key}")

    def label(self, code: object) -> str:
        if code is None or code != code:  # None or NaN: an empty cell, not the word "None"
            return ""
        names = _code_names(self.language)
        return names.get(str(code), str(code))

    def action(self, root_cause: object, fallback: object) -> str:
        """The action a root cause calls for, in this language; else the rule's own text."""
        return DashboardCatalogue(self.language).action(root_cause, fallback)

    def risk_action(self, exception_type: object) -> str:
        """What the merchant can do about an order or SKU heading for a sub-type: the action
        its root cause calls for, in this language. Not the risk mart's text, which is the
        internal handling guideline, and internal guidelines stay internal."""
        kind = exception_catalogue.exception_types().get(str(exception_type))
        return "" if kind is None else self.action(kind.root_cause, None)


@cache
def _code_names(language: str) -> dict[str, str]:
    catalogue = DashboardCatalogue(language)
    names: dict[str, str] = {}
    for section in reversed(CODE_SECTIONS):
        names.update(catalogue.names(section))
    return names


def merchant_languages(languages_file: Path | None = None) -> tuple[str, dict[str, str]]:
    """Read the default language and the merchant_id → language map from the YAML file."""
    path = languages_file or LANGUAGES_FILE
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    default = config.get("default_language", DEFAULT_LANGUAGE)
    merchants = {str(key): str(value) for key, value in (config.get("merchants") or {}).items()}
    for language in [default, *merchants.values()]:
        if language not in TEXT:
            raise ValueError(
                f"{path}: language {language!r} has no translation; "
                f"available: {', '.join(sorted(TEXT))}"
            )
    return default, merchants


def catalogue_for(merchant_id: str, languages_file: Path | None = None) -> Catalogue:
    default, merchants = merchant_languages(languages_file)
    return Catalogue(merchants.get(merchant_id, default))
