"""Reference data the sample orders are drawn from: merchants, warehouses, places, people.

Names are invented but real-sounding; provinces, cities and districts are real and spelled
the way Chinese address exports spell them (the remote provinces exactly as the dbt var
`remote_provinces` spells them).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from pipelines.settings import DBT_PROJECT_DIR

MERCHANT_NAMES = (
    "云裳服饰",
    "步履鞋业",
    "小熊母婴",
    "茶语轩",
    "优品家居",
    "青禾美妆",
    "极客数码",
    "山野户外",
    "萌宠乐园",
    "书香文具",
    "味道工坊",
    "悦动运动",
    "锦绣家纺",
    "橙心果园",
    "匠心厨具",
    "星河玩具",
    "素锦女装",
    "北纬茶饮",
    "安途汽配",
    "禾木良品",
)
# Category of each merchant above, in the same order; decides its catalogue.
MERCHANT_CATEGORIES = (
    "apparel",
    "shoes",
    "baby",
    "tea",
    "home",
    "beauty",
    "digital",
    "outdoor",
    "pet",
    "stationery",
    "snacks",
    "sports",
    "home",
    "snacks",
    "home",
    "toys",
    "apparel",
    "tea",
    "auto",
    "home",
)

CHANNELS = ("taobao", "jd", "pinduoduo", "douyin", "own_shop")
# How customers pay on each channel, in CHANNELS order; an order takes one by its number.
PAYMENT_METHODS = (
    ("alipay", "alipay", "huabei"),
    ("jd_pay", "wechat_pay", "bank_card"),
    ("wechat_pay", "alipay", "wechat_pay"),
    ("douyin_pay", "alipay", "wechat_pay"),
    ("wechat_pay", "alipay", "bank_card"),
)
CHANNEL_WEIGHTS = (0.36, 0.2, 0.2, 0.17, 0.07)
CHANNEL_SHOP_CODES = ("TB", "JD", "PDD", "DY", "WEB")

CARRIERS = ("sf", "zto", "yto", "jd_logistics", "ems")
CARRIER_WEIGHTS = (0.22, 0.33, 0.25, 0.12, 0.08)
# EMS delivers everywhere: it is the fallback when a drawn carrier does not serve a province.
FALLBACK_CARRIER = "ems"


@dataclass(frozen=True)
class Warehouse:
    warehouse_id: str
    city: str
    region: str


WAREHOUSES = (
    Warehouse("WH-SH01", "上海市", "east"),
    Warehouse("WH-GZ01", "广州市", "south"),
    Warehouse("WH-CD01", "成都市", "west"),
    Warehouse("WH-TJ01", "天津市", "north"),
)

# (province, city, district, region, weight): weight ~ share of parcels going there.
DESTINATIONS = (
    ("北京市", "北京市", "朝阳区", "north", 3.0),
    ("北京市", "北京市", "海淀区", "north", 2.5),
    ("天津市", "天津市", "南开区", "north", 1.2),
    ("河北省", "石家庄市", "长安区", "north", 1.2),
    ("山西省", "太原市", "小店区", "north", 0.9),
    ("内蒙古自治区", "呼和浩特市", "赛罕区", "north", 0.5),
    ("辽宁省", "沈阳市", "和平区", "north", 1.1),
    ("吉林省", "长春市", "朝阳区", "north", 0.7),
    ("黑龙江省", "哈尔滨市", "南岗区", "north", 0.8),
    ("上海市", "上海市", "浦东新区", "east", 3.2),
    ("上海市", "上海市", "闵行区", "east", 2.0),
    ("江苏省", "南京市", "鼓楼区", "east", 1.8),
    ("江苏省", "苏州市", "吴中区", "east", 1.9),
    ("浙江省", "杭州市", "西湖区", "east", 2.4),
    ("浙江省", "宁波市", "鄞州区", "east", 1.3),
    ("安徽省", "合肥市", "蜀山区", "east", 1.2),
    ("福建省", "厦门市", "思明区", "east", 1.0),
    ("江西省", "南昌市", "红谷滩区", "east", 0.8),
    ("山东省", "济南市", "历下区", "east", 1.4),
    ("山东省", "青岛市", "崂山区", "east", 1.3),
    ("河南省", "郑州市", "金水区", "north", 1.7),
    ("湖北省", "武汉市", "洪山区", "west", 1.9),
    ("湖南省", "长沙市", "岳麓区", "south", 1.5),
    ("广东省", "广州市", "天河区", "south", 3.0),
    ("广东省", "深圳市", "南山区", "south", 3.0),
    ("广东省", "东莞市", "南城街道", "south", 1.4),
    ("广西壮族自治区", "南宁市", "青秀区", "south", 0.9),
    ("海南省", "海口市", "美兰区", "south", 0.5),
    ("重庆市", "重庆市", "渝北区", "west", 1.6),
    ("四川省", "成都市", "武侯区", "west", 2.2),
    ("贵州省", "贵阳市", "观山湖区", "west", 0.7),
    ("云南省", "昆明市", "五华区", "west", 0.9),
    ("陕西省", "西安市", "雁塔区", "west", 1.5),
    ("甘肃省", "兰州市", "城关区", "west", 0.5),
    ("宁夏回族自治区", "银川市", "兴庆区", "west", 0.3),
    ("青海省", "西宁市", "城西区", "west", 0.15),
    ("青海省", "海东市", "乐都区", "west", 0.05),
    ("新疆维吾尔自治区", "乌鲁木齐市", "天山区", "west", 0.3),
    ("新疆维吾尔自治区", "喀什地区", "喀什市", "west", 0.08),
    ("西藏自治区", "拉萨市", "城关区", "west", 0.08),
    ("西藏自治区", "日喀则市", "桑珠孜区", "west", 0.03),
)
REGIONS = ("east", "south", "west", "north")
# Far from every warehouse: longer promises, and the carrier excluded-region rules' territory.
REMOTE_PROVINCES = ("新疆维吾尔自治区", "西藏自治区", "青海省")

# Promised delivery in days, by whether the parcel crosses regions; remote provinces get more.
PROMISED_DAYS_SAME_REGION = 3
PROMISED_DAYS_OTHER_REGION = 5
PROMISED_DAYS_REMOTE = 8

SURNAMES = (
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "高",
    "林",
    "罗",
    "郑",
    "梁",
    "谢",
    "宋",
    "唐",
    "许",
    "韩",
    "冯",
    "邓",
    "曹",
)
GIVEN_NAMES = (
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "文",
    "华",
    "建国",
    "晓东",
    "海燕",
    "子涵",
    "浩然",
    "欣怡",
    "梓萱",
    "宇轩",
    "雨桐",
    "思远",
    "佳怡",
    "俊杰",
    "婷婷",
    "志强",
    "丹",
    "鑫",
    "琳",
    "晨",
    "博文",
    "诗涵",
    "一鸣",
    "嘉怡",
    "亮",
    "玲",
    "春梅",
)
STREETS = (
    "建设路",
    "人民路",
    "中山路",
    "解放路",
    "文化路",
    "和平路",
    "长江路",
    "新华路",
    "学府路",
    "滨江大道",
    "幸福路",
    "光明街",
    "朝阳路",
    "友谊路",
    "青年路",
    "科技大道",
    "东风路",
    "南京路",
    "黄河路",
    "迎宾大道",
    "体育路",
    "工业园路",
    "花园街",
    "金桥路",
    "世纪大道",
)
COMPOUNDS = (
    "",
    "",
    "阳光花园",
    "锦绣小区",
    "翠苑",
    "万科城",
    "金色家园",
    "滨江花城",
    "御景湾",
    "碧桂园",
)
# Valid mainland mobile prefixes (all match 1[3-9]x).
MOBILE_PREFIXES = (
    130,
    131,
    132,
    133,
    135,
    136,
    137,
    138,
    139,
    150,
    151,
    152,
    153,
    155,
    156,
    157,
    158,
    159,
    166,
    173,
    175,
    176,
    177,
    180,
    181,
    182,
    183,
    185,
    186,
    187,
    188,
    189,
    191,
    198,
    199,
)
HANDLERS = ("王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴婷")


@dataclass(frozen=True)
class CustomRules:
    """The two seeds that configure detection, read from the dbt project."""

    excluded_regions: frozenset[tuple[str, str]]
    merchants_with: dict[str, frozenset[str]]  # exception_type -> merchant ids switched on


def _read_seed(name: str, dbt_project_dir: Path) -> list[dict[str, str]]:
    with (dbt_project_dir / "seeds" / f"{name}.csv").open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def load_custom_rules(dbt_project_dir: Path = DBT_PROJECT_DIR) -> CustomRules:
    excluded = frozenset(
        (row["carrier"], row["province"])
        for row in _read_seed("carrier_excluded_regions", dbt_project_dir)
    )
    merchants_with: dict[str, set[str]] = {}
    for row in _read_seed("merchant_custom_rules", dbt_project_dir):
        merchants_with.setdefault(row["exception_type"], set()).add(row["merchant_id"])
    return CustomRules(
        excluded_regions=excluded,
        merchants_with={code: frozenset(ids) for code, ids in merchants_with.items()},
    )


@dataclass(frozen=True)
class LeadTimes:
    """Days from ordering a replenishment to its arrival (seed replenishment_lead_times)."""

    by_warehouse: dict[str, int]
    by_sku: dict[tuple[str, str], int]  # (warehouse_id, sku) -> days, overriding the default

    def of(self, warehouse_id: str, sku: str) -> int:
        if (warehouse_id, sku) in self.by_sku:
            return self.by_sku[warehouse_id, sku]
        if warehouse_id not in self.by_warehouse:
            raise ValueError(
                f"seed replenishment_lead_times has no default row (empty sku) for {warehouse_id}"
            )
        return self.by_warehouse[warehouse_id]


def load_lead_times(dbt_project_dir: Path = DBT_PROJECT_DIR) -> LeadTimes:
    by_warehouse: dict[str, int] = {}
    by_sku: dict[tuple[str, str], int] = {}
    for row in _read_seed("replenishment_lead_times", dbt_project_dir):
        days = int(row["lead_time_days"])
        if (row["sku"] or "").strip():
            by_sku[row["warehouse_id"], row["sku"].strip()] = days
        else:
            by_warehouse[row["warehouse_id"]] = days
    return LeadTimes(by_warehouse=by_warehouse, by_sku=by_sku)


def merchant_ids(count: int) -> list[str]:
    if not 1 <= count <= len(MERCHANT_NAMES):
        raise ValueError(f"--merchants must be between 1 and {len(MERCHANT_NAMES)}, got {count}")
    return [f"M{number:03d}" for number in range(1, count + 1)]
