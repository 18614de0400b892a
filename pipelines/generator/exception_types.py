"""The exception sub-types the generator injects, with the handling facts it needs.

Codes and families follow the rules table in
dbt_project/models/intermediate/exceptions/_exceptions__docs.md. `share` is the share of
orders the generator injects the sub-type into (before derived ones: an injected cause can make
other rules true too, and those are in the truth as well). `owner_team` and `sla_hours` shape
the handling log; they follow the response standards of the 3PL handbook (domain.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExceptionType:
    code: str
    family: str
    owner_team: str
    sla_hours: float
    share: float


EXCEPTION_TYPES = (
    ExceptionType("payment_failed", "payment", "finance", 1, 0.0022),
    ExceptionType("payment_timeout", "payment", "customer_service", 2, 0.0030),
    ExceptionType("amount_mismatch", "payment", "finance", 4, 0.0010),
    ExceptionType("refund_before_shipment", "payment", "finance", 4, 0.0015),
    ExceptionType("address_incomplete", "info", "customer_service", 2, 0.0025),
    ExceptionType("phone_invalid", "info", "customer_service", 2, 0.0020),
    ExceptionType("receiver_missing", "info", "customer_service", 2, 0.0008),
    ExceptionType("sku_unknown", "info", "merchant", 4, 0.0008),
    ExceptionType("variant_unavailable", "info", "merchant", 4, 0.0008),
    ExceptionType("out_of_stock", "inventory", "warehouse", 1, 0.0020),
    ExceptionType("below_safety_stock", "inventory", "merchant", 24, 0.0015),
    ExceptionType("oversold", "inventory", "warehouse", 2, 0.0008),
    ExceptionType("sku_discontinued", "inventory", "merchant", 4, 0.0008),
    ExceptionType("late_handoff", "logistics", "warehouse", 4, 0.0022),
    ExceptionType("delivery_overdue", "logistics", "customer_service", 24, 0.0020),
    ExceptionType("tracking_stalled", "logistics", "customer_service", 24, 0.0015),
    ExceptionType("rejected_by_recipient", "logistics", "customer_service", 24, 0.0010),
    ExceptionType("returned_to_sender", "logistics", "customer_service", 24, 0.0008),
    ExceptionType("lost_or_damaged", "logistics", "customer_service", 48, 0.0008),
    ExceptionType("out_of_delivery_range", "logistics", "warehouse", 4, 0.0008),
    ExceptionType("wrong_item", "fulfilment", "warehouse", 24, 0.0012),
    ExceptionType("missing_item", "fulfilment", "warehouse", 24, 0.0008),
    ExceptionType("sync_delay", "system", "tech", 0.5, 0.0015),
    ExceptionType("duplicate_order", "system", "tech", 1, 0.0008),
    ExceptionType("missing_in_wms", "system", "tech", 0.5, 0.0008),
    ExceptionType("stock_mismatch", "system", "tech", 4, 0.0012),
    ExceptionType("designated_carrier", "special", "warehouse", 4, 0.0015),
    ExceptionType("expedited", "special", "warehouse", 2, 0.0020),
    ExceptionType("special_packaging", "special", "warehouse", 4, 0.0015),
    ExceptionType("presale_mixed", "special", "warehouse", 4, 0.0008),
    # The last two follow from the order itself (merchant switched on + remote/heavy), so the
    # generator only tops them up to a minimum count; most come from the ordinary data.
    ExceptionType("remote_region_note", "special", "warehouse", 4, 0.0),
    ExceptionType("heavy_parcel", "special", "warehouse", 4, 0.0),
)
BY_CODE = {exception_type.code: exception_type for exception_type in EXCEPTION_TYPES}
CODES = tuple(BY_CODE)
# Every sub-type is injected at least this often, so small samples still show each one.
MINIMUM_PER_TYPE = 4
