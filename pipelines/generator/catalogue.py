"""The SKU master: each merchant's products in their sizes and colours.

A SKU code is '<product>-<size>-<colour>', e.g. 'CL01003-M-BLK'; the product code has no dash,
so the text before the first dash is always the product code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.generator.reference import MERCHANT_CATEGORIES, MERCHANT_NAMES

COLOURS = {
    "BLK": "黑色",
    "WHT": "白色",
    "GRY": "灰色",
    "NAV": "藏青",
    "RED": "红色",
    "PNK": "粉色",
    "GRN": "绿色",
    "BEI": "米色",
    "BLU": "蓝色",
    "YEL": "黄色",
}
APPAREL_SIZES = ("S", "M", "L", "XL", "XXL")
SHOE_SIZES = ("36", "37", "38", "39", "40", "41", "42", "43", "44")


@dataclass(frozen=True)
class Category:
    code: str
    products: tuple[str, ...]
    price_yuan: tuple[float, float]
    weight_kg: tuple[float, float]
    sizes: tuple[str, ...]
    colours: tuple[str, ...]


CATEGORIES = {
    "apparel": Category(
        "CL",
        (
            "纯棉圆领T恤",
            "修身牛仔裤",
            "连帽卫衣",
            "羊毛针织衫",
            "防风夹克",
            "真丝衬衫",
            "休闲短裤",
            "轻薄羽绒服",
        ),
        (49, 599),
        (0.2, 1.1),
        APPAREL_SIZES,
        ("BLK", "WHT", "GRY", "NAV", "BEI", "PNK"),
    ),
    "shoes": Category(
        "SH",
        ("跑步鞋", "帆布鞋", "真皮乐福鞋", "户外徒步鞋", "小白鞋", "雪地靴"),
        (99, 899),
        (0.6, 1.6),
        SHOE_SIZES,
        ("BLK", "WHT", "GRY"),
    ),
    "baby": Category(
        "BB",
        ("婴儿纸尿裤", "有机米粉", "婴儿湿巾", "学饮杯", "连体衣", "安抚奶嘴"),
        (19, 299),
        (0.1, 3.2),
        ("S", "M", "L", "STD"),
        ("WHT", "BLU", "PNK"),
    ),
    "tea": Category(
        "TE",
        ("西湖龙井", "安溪铁观音", "云南普洱饼", "福鼎白茶", "茉莉花茶"),
        (58, 1288),
        (0.1, 1.0),
        ("100G", "250G", "500G"),
        ("GRN", "YEL"),
    ),
    "home": Category(
        "HM",
        ("记忆棉枕", "乳胶床垫", "实木收纳柜", "四件套", "不锈钢置物架", "真空收纳袋", "落地衣架"),
        (39, 1999),
        (0.3, 4.6),
        ("STD", "1.5M", "1.8M"),
        ("WHT", "GRY", "BEI"),
    ),
    "beauty": Category(
        "BT",
        ("补水面膜", "氨基酸洗面奶", "防晒霜", "精华液", "口红", "卸妆水"),
        (39, 699),
        (0.05, 0.6),
        ("30ML", "50ML", "100ML"),
        ("RED", "PNK", "WHT"),
    ),
    "digital": Category(
        "DG",
        ("蓝牙耳机", "充电宝", "机械键盘", "无线鼠标", "智能手表", "数据线"),
        (29, 1599),
        (0.05, 1.2),
        ("STD", "PRO"),
        ("BLK", "WHT", "BLU"),
    ),
    "outdoor": Category(
        "OD",
        ("双人帐篷", "登山杖", "冲锋衣", "睡袋", "折叠桌椅", "户外背包"),
        (59, 1299),
        (0.3, 4.8),
        ("S", "M", "L", "STD"),
        ("GRN", "BLK", "NAV"),
    ),
    "pet": Category(
        "PT",
        ("豆腐猫砂", "全价猫粮", "狗粮", "宠物窝", "逗猫棒", "冻干零食"),
        (9, 399),
        (0.1, 4.5),
        ("S", "M", "L"),
        ("BEI", "GRY", "PNK"),
    ),
    "stationery": Category(
        "ST",
        ("中性笔", "活页笔记本", "彩色铅笔", "文件收纳盒", "台历"),
        (5, 99),
        (0.02, 0.8),
        ("A5", "B5", "STD"),
        ("BLK", "BLU", "RED"),
    ),
    "snacks": Category(
        "SN",
        ("每日坚果", "牛肉干", "手撕面包", "辣条礼包", "芒果干", "海苔"),
        (9, 199),
        (0.1, 2.0),
        ("STD", "FAMILY"),
        ("RED", "YEL"),
    ),
    "sports": Category(
        "SP",
        ("瑜伽垫", "速干T恤", "篮球", "跳绳", "哑铃", "运动护膝"),
        (19, 699),
        (0.1, 4.9),
        APPAREL_SIZES,
        ("BLK", "BLU", "PNK", "GRY"),
    ),
    "toys": Category(
        "TY",
        ("积木套装", "遥控汽车", "毛绒公仔", "拼图", "益智魔方"),
        (19, 599),
        (0.1, 2.5),
        ("STD", "L"),
        ("RED", "BLU", "YEL"),
    ),
    "auto": Category(
        "AU",
        ("车载手机支架", "汽车脚垫", "行车记录仪", "车载香薰", "洗车液"),
        (29, 899),
        (0.1, 4.0),
        ("STD",),
        ("BLK", "GRY", "BEI"),
    ),
}


@dataclass
class Catalogue:
    """The SKU master as column arrays, one entry per SKU, grouped by merchant."""

    sku: np.ndarray  # str objects
    product_id: np.ndarray
    merchant_index: np.ndarray  # int, index into the merchant list
    product_name: np.ndarray
    size: np.ndarray
    colour_code: np.ndarray
    colour_name: np.ndarray
    weight_grams: np.ndarray
    price_cents: np.ndarray
    popularity: np.ndarray  # relative weight within the merchant
    is_discontinued: np.ndarray
    # product code -> sizes and colours it is NOT made in, to build unavailable variants
    missing_variants: dict[str, list[tuple[str, str]]]

    def __len__(self) -> int:
        return len(self.sku)


def build_catalogue(rng: np.random.Generator, merchant_count: int) -> Catalogue:
    rows: list[tuple] = []
    missing: dict[str, list[tuple[str, str]]] = {}
    for merchant_index in range(merchant_count):
        category = CATEGORIES[MERCHANT_CATEGORIES[merchant_index]]
        for product_number, product_name in enumerate(category.products, start=1):
            product_id = f"{category.code}{merchant_index + 1:02d}{product_number:03d}"
            low, high = category.price_yuan
            price = int(rng.uniform(low, high)) * 100 + 90  # prices end in .90, as shops like
            # Most products are light; a few are near the top of the category's range.
            low_kg, high_kg = category.weight_kg
            weight = int((low_kg + (high_kg - low_kg) * rng.beta(1.0, 4.0)) * 1000)
            sizes = _subset(rng, category.sizes)
            colours = _subset(rng, category.colours)
            product_popularity = rng.pareto(1.5) + 0.2
            for size in sizes:
                for colour in colours:
                    rows.append(
                        (
                            f"{product_id}-{size}-{colour}",
                            product_id,
                            merchant_index,
                            product_name,
                            size,
                            colour,
                            COLOURS[colour],
                            weight,
                            price,
                            product_popularity * rng.uniform(0.3, 1.0),
                        )
                    )
            missing[product_id] = [
                (size, colour)
                for size in category.sizes
                for colour in category.colours
                if size not in sizes or colour not in colours
            ] or [("XXXL", colours[0])]
    columns = list(zip(*rows, strict=True))
    catalogue = Catalogue(
        sku=np.array(columns[0], dtype=object),
        product_id=np.array(columns[1], dtype=object),
        merchant_index=np.array(columns[2], dtype=np.int64),
        product_name=np.array(columns[3], dtype=object),
        size=np.array(columns[4], dtype=object),
        colour_code=np.array(columns[5], dtype=object),
        colour_name=np.array(columns[6], dtype=object),
        weight_grams=np.array(columns[7], dtype=np.int64),
        price_cents=np.array(columns[8], dtype=np.int64),
        popularity=np.array(columns[9], dtype=np.float64),
        is_discontinued=np.zeros(len(rows), dtype=bool),
        missing_variants=missing,
    )
    _keep_bulky_items_rare(catalogue)
    _discontinue_some(rng, catalogue)
    return catalogue


def _keep_bulky_items_rare(catalogue: Catalogue) -> None:
    """Only each merchant's least popular product may weigh over 1.2 kg a unit, so parcels over
    5 kg (a custom rule for some merchants) stay a small share whatever the seed."""
    for merchant_index in np.unique(catalogue.merchant_index):
        own = catalogue.merchant_index == merchant_index
        bulky = catalogue.product_id[own][np.argmin(catalogue.popularity[own])]
        light = own & (catalogue.product_id != bulky)
        catalogue.weight_grams[light] = np.minimum(catalogue.weight_grams[light], 1_200)
        heavy = own & ~light
        share = catalogue.popularity[heavy].sum() / catalogue.popularity[own].sum()
        catalogue.popularity[heavy] *= min(1.0, 0.03 / share)  # at most 3% of its sales


def _subset(rng: np.random.Generator, values: tuple[str, ...]) -> list[str]:
    """A product is made in most, not all, of its category's sizes or colours."""
    keep = max(1, min(len(values), round(len(values) * rng.uniform(0.5, 0.9))))
    chosen = set(rng.choice(len(values), size=keep, replace=False).tolist())
    return [value for index, value in enumerate(values) if index in chosen]


def _discontinue_some(rng: np.random.Generator, catalogue: Catalogue) -> None:
    """About 4% of SKUs (at least one per merchant) are discontinued; new orders avoid them."""
    for merchant_index in np.unique(catalogue.merchant_index):
        skus = np.flatnonzero(catalogue.merchant_index == merchant_index)
        count = max(1, len(skus) // 25)
        catalogue.is_discontinued[rng.choice(skus, size=count, replace=False)] = True


def merchant_names(merchant_count: int) -> list[str]:
    return list(MERCHANT_NAMES[:merchant_count])
