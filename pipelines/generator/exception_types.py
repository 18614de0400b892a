"""The exception sub-types the generator injects, with the handling facts it needs.

Codes, families, owner teams and SLA hours come from the exception catalogue
(dbt_project/seeds/exception_catalogue.csv, via pipelines.catalogue), so the sample's handling
log follows the same service levels the dashboard and the merchant files show. What is the
generator's own is `share`: the share of orders it injects the sub-type into (before derived
ones: an injected cause can make other rules true too, and those are in the truth as well).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines import catalogue


@dataclass(frozen=True)
class ExceptionType:
    code: str
    family: str
    owner_team: str
    sla_hours: float
    share: float


SHARES = {
    "payment_failed": 0.0022,
    "payment_timeout": 0.0030,
    "amount_mismatch": 0.0010,
    "refund_before_shipment": 0.0015,
    "address_incomplete": 0.0025,
    "phone_invalid": 0.0020,
    "receiver_missing": 0.0008,
    "sku_unknown": 0.0008,
    "variant_unavailable": 0.0008,
    "out_of_stock": 0.0020,
    "below_safety_stock": 0.0015,
    "oversold": 0.0008,
    "sku_discontinued": 0.0008,
    "late_handoff": 0.0022,
    "delivery_overdue": 0.0020,
    "tracking_stalled": 0.0015,
    "rejected_by_recipient": 0.0010,
    "returned_to_sender": 0.0008,
    "lost_or_damaged": 0.0008,
    "out_of_delivery_range": 0.0008,
    "wrong_item": 0.0012,
    "missing_item": 0.0008,
    "sync_delay": 0.0015,
    "duplicate_order": 0.0008,
    "missing_in_wms": 0.0008,
    "stock_mismatch": 0.0012,
    "designated_carrier": 0.0015,
    "expedited": 0.0020,
    "special_packaging": 0.0015,
    "presale_mixed": 0.0008,
    # These two follow from the order itself (merchant switched on + remote/heavy), so the
    # generator only tops them up to a minimum count; most come from the ordinary data.
    "remote_region_note": 0.0,
    "heavy_parcel": 0.0,
}

EXCEPTION_TYPES = tuple(
    ExceptionType(kind.code, kind.family, kind.owner_team, kind.sla_hours, SHARES[kind.code])
    for kind in catalogue.exception_types().values()
)
BY_CODE = {exception_type.code: exception_type for exception_type in EXCEPTION_TYPES}
CODES = tuple(BY_CODE)
# Every sub-type is injected at least this often, so small samples still show each one.
MINIMUM_PER_TYPE = 4
