"""Customer-service tickets and reviews.

Only `wrong_item` and `missing_item` tickets are exceptions; the rest (questions, reviews,
complaints about a late or damaged parcel) are the everyday noise a real inbox has.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.generator.injection import Injected
from pipelines.generator.lifecycle import DAMAGED, DELIVERED, NEVER, Timeline
from pipelines.generator.orders import DAY, HOUR, MINUTE

TICKET_CHANNELS = ("phone", "online_chat", "review", "complaint")
CATEGORIES = ("wrong_item", "missing_item", "damaged", "late", "address", "inquiry", "other")
CONTENT = {
    "wrong_item": (
        "收到的颜色和下单的不一样",
        "尺码发错了，我买的是M码",
        "发来的根本不是我买的商品",
    ),
    "missing_item": ("少发了一件，订单里有两件只收到一件", "赠品没有收到", "包裹里缺了一个配件"),
    "damaged": ("外包装破损，商品摔坏了", "收到时盒子压扁了"),
    "late": ("说好三天到，现在还没收到", "物流好几天没更新了，什么时候能到？"),
    "address": ("地址填错了，想改一下收货地址", "麻烦帮我改成公司地址"),
    "inquiry": ("请问什么时候发货？", "可以开发票吗？", "这个尺码偏大还是偏小？", "有没有优惠券？"),
    "other": ("质量很好，下次还来买", "物流很快，包装也不错", "一般般吧", "客服态度很好"),
}
CONTENT_TEXTS = tuple(text for texts in CONTENT.values() for text in texts)


@dataclass
class Tickets:
    order: np.ndarray
    channel: np.ndarray
    category: np.ndarray
    rating: np.ndarray  # 1-5, 0 when not a review
    content: np.ndarray  # index into CONTENT_TEXTS
    opened: np.ndarray
    resolved: np.ndarray  # NEVER while open


def _tickets(
    order: np.ndarray,
    category: str,
    opened: np.ndarray,
    channel: np.ndarray,
    rng: np.random.Generator,
    rating: np.ndarray | None = None,
) -> Tickets:
    count = len(order)
    first_text = CONTENT_TEXTS.index(CONTENT[category][0])
    return Tickets(
        order=order,
        channel=channel,
        category=np.full(count, CATEGORIES.index(category)),
        rating=np.zeros(count, dtype=np.int64) if rating is None else rating,
        content=first_text + rng.integers(0, len(CONTENT[category]), count),
        opened=opened,
        resolved=opened + rng.integers(10 * MINUTE, 2 * DAY, count),
    )


def _channel(rng, count: int, weights=(0.35, 0.6, 0.0, 0.05)) -> np.ndarray:
    weights = np.asarray(weights)
    return rng.choice(len(TICKET_CHANNELS), size=count, p=weights / weights.sum())


def open_tickets(
    rng: np.random.Generator, placed: np.ndarray, timeline: Timeline, injected: Injected
) -> Tickets:
    count = len(placed)
    delivered = (timeline.arrival < NEVER) & (timeline.terminal == DELIVERED)
    parts: list[Tickets] = []
    for code in ("wrong_item", "missing_item"):
        who = np.flatnonzero(injected.has(code, count) & delivered)
        opened = timeline.arrival[who] + rng.integers(2 * HOUR, 72 * HOUR, len(who))
        parts.append(_tickets(who, code, opened, _channel(rng, len(who), (0.2, 0.4, 0, 0.4)), rng))
    late = np.flatnonzero(
        (timeline.arrival > timeline.promised)
        & (timeline.arrival < NEVER)
        & (rng.random(count) < 0.4)
    )
    parts.append(
        _tickets(
            late,
            "late",
            timeline.promised[late] + rng.integers(2 * HOUR, 24 * HOUR, len(late)),
            _channel(rng, len(late)),
            rng,
        )
    )
    damaged = np.flatnonzero((timeline.terminal == DAMAGED) & (timeline.arrival < NEVER))
    parts.append(
        _tickets(
            damaged,
            "damaged",
            timeline.arrival[damaged] + rng.integers(HOUR, 24 * HOUR, len(damaged)),
            _channel(rng, len(damaged), (0.3, 0.3, 0, 0.4)),
            rng,
        )
    )
    for category, share in (("inquiry", 0.015), ("other", 0.004), ("address", 0.003)):
        who = np.flatnonzero(rng.random(count) < share)
        opened = placed[who] + rng.integers(10 * MINUTE, 2 * DAY, len(who))
        parts.append(_tickets(who, category, opened, _channel(rng, len(who)), rng))
    # Reviews: stars, mostly happy, left some days after delivery.
    reviewers = np.flatnonzero(delivered & (rng.random(count) < 0.03))
    stars = rng.choice(5, size=len(reviewers), p=[0.03, 0.03, 0.08, 0.21, 0.65]) + 1
    parts.append(
        _tickets(
            reviewers,
            "other",
            timeline.arrival[reviewers] + rng.integers(HOUR, 7 * DAY, len(reviewers)),
            np.full(len(reviewers), TICKET_CHANNELS.index("review")),
            rng,
            stars,
        )
    )
    return Tickets(
        **{
            name: np.concatenate([getattr(part, name) for part in parts])
            for name in Tickets.__dataclass_fields__
        }
    )
