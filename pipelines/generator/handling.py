"""The handling log: who did what about each exception, and when.

Each handled exception gets acknowledged, one working step (calling the customer, telling the
merchant, investigating), an escalation when it runs past its SLA, and a resolution. Times
are drawn around the SLA: most close within it, those ending in a cancellation close when the
order is cancelled; steps after the cutoff have not happened yet, so some are still open.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.generator.exception_types import BY_CODE, CODES
from pipelines.generator.lifecycle import DAMAGED, LOST, NEVER, REJECTED, RETURNED, Timeline
from pipelines.generator.orders import HOUR, MINUTE
from pipelines.generator.reference import HANDLERS
from pipelines.generator.truth import Truth

ACTIONS = (
    "acknowledged",
    "contacted_customer",
    "notified_merchant",
    "investigated",
    "escalated",
    "resolved",
)
RESOLUTIONS = ("shipped", "reshipped", "cancelled", "refunded", "lost")
TEAMS = ("customer_service", "warehouse", "finance", "tech", "merchant")
# The working step each family takes between acknowledging and resolving.
WORKING_STEP = {
    "payment": "contacted_customer",
    "info": "contacted_customer",
    "inventory": "notified_merchant",
    "logistics": "contacted_customer",
    "fulfilment": "investigated",
    "system": "investigated",
    "special": "notified_merchant",
}
HANDLED_SHARE = 0.92


@dataclass
class Actions:
    order: np.ndarray
    code: np.ndarray
    action: np.ndarray  # index into ACTIONS
    at: np.ndarray
    team: np.ndarray  # index into TEAMS
    handler: np.ndarray  # index into HANDLERS
    resolution: np.ndarray  # index into RESOLUTIONS, -1 when not a resolution


def _resolution(truth: Truth, timeline: Timeline, cutoff: int) -> np.ndarray:
    """How it ended, consistent with the order's own events."""
    order, code = truth.order, np.asarray(CODES)[truth.code]
    outcome = np.full(len(order), RESOLUTIONS.index("shipped"))
    terminal = timeline.terminal[order]
    outcome[np.isin(code, ["wrong_item", "missing_item"]) | (terminal == DAMAGED)] = 1
    outcome[np.isin(terminal, [REJECTED, RETURNED])] = RESOLUTIONS.index("refunded")
    outcome[terminal == LOST] = RESOLUTIONS.index("lost")
    cancelled = timeline.cancelled[order] < cutoff
    outcome[cancelled] = RESOLUTIONS.index("cancelled")
    outcome[code == "refund_before_shipment"] = RESOLUTIONS.index("refunded")
    return outcome


def handle(rng: np.random.Generator, truth: Truth, timeline: Timeline, cutoff: int) -> Actions:
    handled = np.flatnonzero(rng.random(len(truth.order)) < HANDLED_SHARE)
    count = len(handled)
    order, code, detected = truth.order[handled], truth.code[handled], truth.observable[handled]
    sla = np.array([int(BY_CODE[c].sla_hours * HOUR) for c in CODES], dtype=np.int64)[code]
    team = np.array([TEAMS.index(BY_CODE[c].owner_team) for c in CODES])[code]
    working_step = np.array([ACTIONS.index(WORKING_STEP[BY_CODE[c].family]) for c in CODES])[code]

    first_response = (rng.lognormal(np.log(0.25), 0.9, count) * sla).astype(np.int64) + MINUTE
    working = first_response + (rng.uniform(0.05, 0.3, count) * sla).astype(np.int64) + MINUTE
    total = (rng.lognormal(np.log(0.45), 0.75, count) * sla).astype(np.int64)
    fate = timeline.cancelled[order]
    # A cancellation closes the case when it happens, not before.
    total = np.where((fate < NEVER) & (fate > detected), np.maximum(total, fate - detected), total)
    total = np.maximum(total, working + 5 * MINUTE)
    overdue = total > sla

    steps = [
        (np.ones(count, dtype=bool), ACTIONS.index("acknowledged"), first_response),
        (np.ones(count, dtype=bool), working_step, working),
        (overdue, ACTIONS.index("escalated"), np.maximum(sla, working + MINUTE)),
        (np.ones(count, dtype=bool), ACTIONS.index("resolved"), total),
    ]
    resolution = _resolution(truth, timeline, cutoff)[handled]
    handler = team * 2 + rng.integers(0, 2, count)  # two people per team
    parts = []
    for present, action, offset in steps:
        at = detected + offset
        keep = present & (at < cutoff)
        is_resolution = action == ACTIONS.index("resolved") if np.isscalar(action) else False
        parts.append(
            Actions(
                order=order[keep],
                code=code[keep],
                action=np.broadcast_to(action, count)[keep].astype(np.int64),
                at=at[keep],
                team=team[keep],
                handler=handler[keep],
                resolution=resolution[keep] if is_resolution else np.full(int(keep.sum()), -1),
            )
        )
    actions = Actions(
        **{
            name: np.concatenate([getattr(part, name) for part in parts])
            for name in Actions.__dataclass_fields__
        }
    )
    in_time_order = np.argsort(actions.at, kind="stable")
    return Actions(
        **{name: getattr(actions, name)[in_time_order] for name in Actions.__dataclass_fields__}
    )


def handler_names() -> list[str]:
    """Two named handlers per team, e.g. '客服-王芳'."""
    prefixes = ("客服", "仓库", "财务", "技术", "商家")
    return [
        f"{prefix}-{HANDLERS[(index * 2 + offset) % len(HANDLERS)]}"
        for index, prefix in enumerate(prefixes)
        for offset in range(2)
    ]
