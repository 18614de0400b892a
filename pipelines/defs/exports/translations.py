"""The words of a merchant report in each language, and which language each merchant reads.

Codes (exception types, families, resolutions) stay codes in the marts; the report shows the
merchant a label. A code without a label is shown as the code, so a new rule never breaks a
report, it only reads less nicely until a label is added here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_LANGUAGE = "zh-CN"
LANGUAGES_FILE = Path(__file__).with_name("merchants.yml")

TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "订单异常周报",
        "file_stem": "订单异常周报",
        "merchant": "商家",
        "week": "周",
        "period": "统计周期",
        "timezone_note": "时间均为北京时间（Asia/Shanghai）",
        "sheet_summary": "概览",
        "sheet_exceptions": "本周异常",
        "sheet_recurring": "重复问题",
        "sheet_actions": "处理建议",
        "kpi": "指标",
        "this_week": "本周",
        "last_week": "上周",
        "change": "变化",
        "orders": "订单数",
        "orders_with_exception": "异常订单数",
        "exceptions": "异常数",
        "exception_rate": "异常订单率",
        "open_exceptions": "未结异常",
        "overdue_exceptions": "超时异常",
        "sla_met_share": "时效内处理占比",
        "success_rate": "挽回成功率",
        "recurrence_rate": "重复发生率",
        "by_family": "按异常大类",
        "trend": "近八周异常订单率",
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
        "share_of_exceptions": "占本周异常",
        "points": "个百分点",
    },
    "en": {
        "title": "Weekly order exception report",
        "file_stem": "exception-report",
        "merchant": "Merchant",
        "week": "Week",
        "period": "Period",
        "timezone_note": "All times are Beijing time (Asia/Shanghai)",
        "sheet_summary": "Summary",
        "sheet_exceptions": "Exceptions",
        "sheet_recurring": "Recurring issues",
        "sheet_actions": "Suggested actions",
        "kpi": "Indicator",
        "this_week": "This week",
        "last_week": "Last week",
        "change": "Change",
        "orders": "Orders",
        "orders_with_exception": "Orders with an exception",
        "exceptions": "Exceptions",
        "exception_rate": "Exception rate (orders)",
        "open_exceptions": "Open exceptions",
        "overdue_exceptions": "Overdue exceptions",
        "sla_met_share": "Handled within SLA",
        "success_rate": "Success rate",
        "recurrence_rate": "Recurrence rate",
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
        "share_of_exceptions": "Share of the week's exceptions",
        "points": "pp",
    },
}

# Labels for the codes the marts carry, per language.
LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "payment": "支付", "info": "信息", "inventory": "库存", "logistics": "物流",
        "fulfilment": "履约准确", "system": "系统", "special": "特殊要求",
        "payment_failed": "支付失败", "payment_timeout": "超时未支付",
        "amount_mismatch": "支付金额不符", "refund_before_shipment": "发货前申请退款",
        "address_incomplete": "地址不完整", "phone_invalid": "电话无效",
        "receiver_missing": "缺少收件人", "sku_unknown": "未知商品编码",
        "variant_unavailable": "规格不存在", "out_of_stock": "缺货",
        "below_safety_stock": "低于安全库存", "oversold": "超卖",
        "sku_discontinued": "商品已停售", "late_handoff": "交接承运商延迟",
        "delivery_overdue": "超时未妥投", "tracking_stalled": "物流停滞",
        "rejected_by_recipient": "收件人拒收", "returned_to_sender": "退回",
        "lost_or_damaged": "丢件或破损", "out_of_delivery_range": "超出配送范围",
        "wrong_item": "错发", "missing_item": "漏发", "sync_delay": "订单同步延迟",
        "duplicate_order": "重复订单", "missing_in_wms": "订单未下发仓库",
        "stock_mismatch": "平台与仓库库存不一致", "designated_carrier": "指定快递",
        "expedited": "加急", "special_packaging": "特殊包装",
        "presale_mixed": "预售与现货混合", "remote_region_note": "偏远地区备注",
        "heavy_parcel": "超重包裹",
        "shipped": "已发货", "reshipped": "已补发", "cancelled": "已取消",
        "refunded": "已退款", "lost": "丢失",
        "customer_service": "客服", "warehouse": "仓库", "finance": "财务",
        "tech": "技术", "merchant": "商家",
        "customer_phone": "同一客户电话", "address": "同一地址", "sku": "同一商品",
        "carrier_route": "同一快递线路",
    },
    "en": {
        "payment": "Payment", "info": "Order information", "inventory": "Inventory",
        "logistics": "Logistics", "fulfilment": "Fulfilment accuracy", "system": "System",
        "special": "Special request",
        "payment_failed": "Payment failed", "payment_timeout": "Unpaid past the timeout",
        "amount_mismatch": "Paid amount differs", "refund_before_shipment":
            "Refund before shipment",
        "address_incomplete": "Address incomplete", "phone_invalid": "Phone invalid",
        "receiver_missing": "Receiver missing", "sku_unknown": "Unknown SKU",
        "variant_unavailable": "Variant not carried", "out_of_stock": "Out of stock",
        "below_safety_stock": "Below safety stock", "oversold": "Oversold",
        "sku_discontinued": "SKU discontinued", "late_handoff": "Late hand-off to carrier",
        "delivery_overdue": "Delivery overdue", "tracking_stalled": "Tracking stalled",
        "rejected_by_recipient": "Rejected by recipient",
        "returned_to_sender": "Returned to sender", "lost_or_damaged": "Lost or damaged",
        "out_of_delivery_range": "Outside delivery range", "wrong_item": "Wrong item",
        "missing_item": "Missing item", "sync_delay": "Late sync to WMS",
        "duplicate_order": "Duplicate order", "missing_in_wms": "Never reached the WMS",
        "stock_mismatch": "Platform and WMS stock differ",
        "designated_carrier": "Designated carrier", "expedited": "Expedited",
        "special_packaging": "Special packaging", "presale_mixed": "Presale mixed with in-stock",
        "remote_region_note": "Remote region note", "heavy_parcel": "Heavy parcel",
        "shipped": "shipped", "reshipped": "reshipped", "cancelled": "cancelled",
        "refunded": "refunded", "lost": "lost",
        "customer_service": "Customer service", "warehouse": "Warehouse",
        "finance": "Finance", "tech": "Tech", "merchant": "Merchant",
        "customer_phone": "Same customer phone", "address": "Same address", "sku": "Same SKU",
        "carrier_route": "Same carrier route",
    },
}


@dataclass(frozen=True)
class Catalogue:
    """Everything a report needs to speak one language."""

    language: str

    def text(self, key: str) -> str:
        return TEXT[self.language][key]

    def label(self, code: object) -> str:
        if code is None or code != code:  # None or NaN: an empty cell, not the word "None"
            return ""
        return LABELS[self.language].get(str(code), str(code))


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
