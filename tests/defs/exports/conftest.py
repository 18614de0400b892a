"""Tiny marts with the exact serving-contract columns, for three merchants.

Every identifier carries its merchant's prefix (order ids, phone numbers, SKUs), so a test
can search any file for another merchant's identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from report_weeks import LAST_WEEK, WEEK, WEEK_START_UTC
from risk_fixture import LATE_PROBABILITIES, write_risk_marts
from serving_contract import SERVING_CONTRACT

FCT_ORDER_EXCEPTIONS_COLUMNS = SERVING_CONTRACT["fct_order_exceptions"]
RPT_WEEKLY_KPIS_COLUMNS = SERVING_CONTRACT["rpt_weekly_kpis"]
RPT_RECURRING_ISSUES_COLUMNS = SERVING_CONTRACT["rpt_recurring_issues"]
DIM_EXCEPTION_TYPES_COLUMNS = SERVING_CONTRACT["dim_exception_types"]

EXCEPTION_TYPES = [
    # exception_type, family, priority, sla_hours, owner_team
    ("out_of_stock", "inventory", "P1", 1.0, "warehouse"),
    ("address_incomplete", "info", "P2", 2.0, "customer_service"),
    ("delivery_overdue", "logistics", "P3", 24.0, "warehouse"),
]
# The root cause of each sub-type, as the rules' meta gives it; the last is one the dashboard's
# catalogue does not know yet (a new analyst's code), which the report shows as it is.
ROOT_CAUSES = {
    "out_of_stock": "replenishment_policy",
    "address_incomplete": "no_checkout_address_validation",
    "delivery_overdue": "carrier_relations_2027",
}


@dataclass(frozen=True)
class FixtureMerchant:
    merchant_id: str
    merchant_name: str
    prefix: str  # unique letters in every identifier of this merchant
    exceptions_this_week: int
    exceptions_last_week: int

    def order_id(self, week: str, number: int) -> str:
        return f"{self.prefix}{week[-2:]}{number:04d}"

    @property
    def phone(self) -> str:
        return f"139{ord(self.prefix[0]):04d}{ord(self.prefix[1]):04d}"

    def risk_order_id(self, number: int) -> str:
        """An open order scored by the risk (not one of the week's exceptions)."""
        return f"{self.prefix}R{number:03d}"

    @property
    def identifiers(self) -> set[str]:
        """Strings that only this merchant's files may contain."""
        orders = {
            self.order_id(week, n)
            for week, count in (
                (WEEK, self.exceptions_this_week),
                (LAST_WEEK, self.exceptions_last_week),
            )
            for n in range(count)
        }
        risky = {self.risk_order_id(n) for n in range(len(LATE_PROBABILITIES))}
        return orders | risky | {self.merchant_id, self.phone, f"SKU-{self.prefix}"}


MERCHANTS = [
    FixtureMerchant("MQX01", "星辰旗舰店", "QX", 6, 4),
    FixtureMerchant("MBH02", "Blue Harbor Trading", "BH", 3, 5),
    FixtureMerchant("MZK03", "云上/优品..店", "ZK", 4, 0),
]


def exception_rows(
    merchant: FixtureMerchant, week: str, count: int, week_start: datetime
) -> list[dict]:
    rows = []
    for number in range(count):
        exception_type, family, priority, sla_hours, owner_team = EXCEPTION_TYPES[number % 3]
        placed_at = week_start + timedelta(hours=2 + 10 * number)
        is_open = number % 3 == 2
        handling_hours = None if is_open else 0.5 + number
        resolved_at = None if is_open else placed_at + timedelta(hours=handling_hours)
        rows.append(
            {
                "exception_id": f"EX-{merchant.order_id(week, number)}-{exception_type}",
                "order_id": merchant.order_id(week, number),
                "merchant_id": merchant.merchant_id,
                "merchant_name": merchant.merchant_name,
                "warehouse_id": "WH-SH" if number % 2 else "WH-GZ",
                "channel": "tmall" if number % 2 else "douyin",
                "carrier": "SF",
                "province": "上海",
                "payment_method": "alipay",
                "source_profile": "default",
                "sku": f"SKU-{merchant.prefix}-{number % 2}",
                "family": family,
                "kind": "failure",
                "exception_type": exception_type,
                "priority": priority,
                "owner_team": owner_team,
                "placed_at": placed_at,
                "week": week,
                "detected_at": placed_at,
                "first_response_at": None if is_open else placed_at + timedelta(minutes=20),
                "resolved_at": resolved_at,
                "resolution": None if is_open else "shipped",
                "response_hours": None if is_open else 20 / 60,
                "handling_hours": handling_hours,
                "sla_hours": sla_hours,
                "is_within_sla": False if is_open else sla_hours >= 20 / 60,
                "is_open": is_open,
                "is_overdue": is_open and number % 2 == 1,
                "root_cause": ROOT_CAUSES[exception_type],
                "root_cause_owner_team": owner_team,
                "suggested_action": f"action for {exception_type}",
                "recurrence_key": merchant.phone,
                "is_recurrence": number > 0,
                "is_success": not is_open,
            }
        )
    return rows


def kpi_rows(merchant: FixtureMerchant, exceptions: pd.DataFrame) -> list[dict]:
    """Counts per (week, warehouse, channel), as the mart would aggregate them."""
    rows = []
    mine = exceptions[exceptions["merchant_id"] == merchant.merchant_id]
    for (week, warehouse, channel), group in mine.groupby(["week", "warehouse_id", "channel"]):
        orders = 10 * len(group)
        rows.append(
            {
                "week": week,
                "merchant_id": merchant.merchant_id,
                "warehouse_id": warehouse,
                "channel": channel,
                "orders": orders,
                "orders_with_exception": len(group),
                "exceptions": len(group),
                "exception_rate": len(group) / orders,
                "open_exceptions": int(group["is_open"].sum()),
                "overdue_exceptions": int(group["is_overdue"].sum()),
                "exceptions_within_sla": int(group["is_within_sla"].fillna(False).sum()),
                "exceptions_closed": int((~group["is_open"]).sum()),
                "successes": int(group["is_success"].sum()),
                "recurrences": int(group["is_recurrence"].sum()),
                "orders_with_special_request": 0,
                "special_requests": 0,
                "special_requests_within_sla": 0,
                "open_special_requests": 0,
            }
        )
    return rows


def write_marts(folder: Path, merchants: list[FixtureMerchant]) -> pd.DataFrame:
    """Write the four marts the reports read; return the exceptions for expectations."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for merchant in merchants:
        rows += exception_rows(merchant, WEEK, merchant.exceptions_this_week, WEEK_START_UTC)
        rows += exception_rows(
            merchant, LAST_WEEK, merchant.exceptions_last_week, WEEK_START_UTC - timedelta(days=7)
        )
    exceptions = pd.DataFrame(rows, columns=FCT_ORDER_EXCEPTIONS_COLUMNS)
    for column in ("placed_at", "detected_at", "first_response_at", "resolved_at"):
        exceptions[column] = pd.to_datetime(exceptions[column]).astype("datetime64[us]")
    exceptions["is_within_sla"] = exceptions["is_within_sla"].astype("boolean")
    exceptions.to_parquet(folder / "fct_order_exceptions.parquet", index=False)

    kpis = [row for merchant in merchants for row in kpi_rows(merchant, exceptions)]
    pd.DataFrame(kpis, columns=RPT_WEEKLY_KPIS_COLUMNS).to_parquet(
        folder / "rpt_weekly_kpis.parquet", index=False
    )

    recurring = pd.DataFrame(
        [
            {
                "key_type": key_type,
                "recurrence_key": key,
                "recurrence_label": label,
                "family": "inventory",
                "exception_type": "out_of_stock",
                "merchant_id": merchant.merchant_id,
                "occurrences": 3,
                "first_detected_at": WEEK_START_UTC - timedelta(days=5),
                "last_detected_at": WEEK_START_UTC + timedelta(days=1),
                "last_week": WEEK,
            }
            for merchant in merchants
            for key_type, key, label in (
                (
                    "customer_phone",
                    merchant.phone,
                    f"{merchant.phone[:3]}****{merchant.phone[-4:]}",
                ),
                ("sku", f"SKU-{merchant.prefix}-0", f"SKU-{merchant.prefix}-0"),
            )
        ],
        columns=RPT_RECURRING_ISSUES_COLUMNS,
    )
    for column in ("first_detected_at", "last_detected_at"):
        recurring[column] = recurring[column].astype("datetime64[us]")
    recurring.to_parquet(folder / "rpt_recurring_issues.parquet", index=False)

    pd.DataFrame(
        [
            {
                "exception_type": code,
                "family": family,
                "kind": "failure",
                "priority": priority,
                "sla_hours": sla,
                "sla_measures": "first_response",
                "owner_team": team,
                "handling_guideline": f"guideline for {code}",
                "root_cause": ROOT_CAUSES[code],
                "root_cause_owner_team": team,
                "suggested_action": f"action for {code}",
                "recurrence_key_type": "customer_phone",
                "inputs": "",
                "explained_by": "merchant",
            }
            for code, family, priority, sla, team in EXCEPTION_TYPES
        ],
        columns=DIM_EXCEPTION_TYPES_COLUMNS,
    ).to_parquet(folder / "dim_exception_types.parquet", index=False)
    write_maturity(folder, provisional=())
    coverage = [
        {
            "week": row["week"],
            "merchant_id": row["merchant_id"],
            "warehouse_id": row["warehouse_id"],
            "channel": row["channel"],
            "exception_type": code,
            "orders": row["orders"],
            "orders_assessed": row["orders"],
        }
        for row in kpis
        for code, *_ in EXCEPTION_TYPES
    ]
    pd.DataFrame(coverage, columns=SERVING_CONTRACT["rpt_exception_coverage"]).to_parquet(
        folder / "rpt_exception_coverage.parquet", index=False
    )
    write_risk_marts(folder, merchants)
    return exceptions


def write_maturity(folder: Path, provisional: tuple[str, ...]) -> None:
    """Both weeks mature (or the given ones provisional, half their failures visible)."""
    as_of = WEEK_START_UTC + timedelta(days=14)
    rows = [
        {
            "week": week,
            "week_start": (start + timedelta(hours=8)).date(),
            "week_end_at": start + timedelta(days=7),
            "family": "all",
            "observation_days": 3.0,
            "matures_at": start + timedelta(days=10),
            "is_mature": week not in provisional,
            "expected_share_visible": 0.5 if week in provisional else 1.0,
            "as_of": as_of,
        }
        for week, start in ((LAST_WEEK, WEEK_START_UTC - timedelta(days=7)), (WEEK, WEEK_START_UTC))
    ]
    frame = pd.DataFrame(rows, columns=SERVING_CONTRACT["rpt_week_maturity"])
    for column in ("week_end_at", "matures_at", "as_of"):
        frame[column] = frame[column].astype("datetime64[us]")
    frame.to_parquet(folder / "rpt_week_maturity.parquet", index=False)


@pytest.fixture
def data_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Marts and exports folders of a throwaway project, through the settings' env vars."""
    folders = {"marts": tmp_path / "data" / "marts", "exports": tmp_path / "data" / "exports"}
    monkeypatch.setenv("OEX_MARTS", str(folders["marts"]))
    monkeypatch.setenv("OEX_EXPORTS", str(folders["exports"]))
    return folders


@pytest.fixture
def marts(data_folders: dict[str, Path]) -> pd.DataFrame:
    return write_marts(data_folders["marts"], MERCHANTS)


@pytest.fixture
def languages_file(tmp_path: Path) -> Path:
    """Blue Harbor reads English; the others the zh-CN default."""
    path = tmp_path / "merchants.yml"
    path.write_text("default_language: zh-CN\nmerchants:\n  MBH02: en\n", encoding="utf-8")
    return path


@pytest.fixture
def fixture_merchants() -> list[FixtureMerchant]:
    return MERCHANTS


@pytest.fixture
def make_merchant():
    """Build a merchant for a test that needs a particular name."""
    return FixtureMerchant


@pytest.fixture
def rewrite_marts(data_folders: dict[str, Path]):
    """Replace the marts with ones for the given merchants (a later build of the same week)."""
    return lambda merchants: write_marts(data_folders["marts"], merchants)
