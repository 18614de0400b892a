"""What one merchant's weekly report shows, read from the exported marts.

Only the marts Parquet files are read (never the warehouse, which a run may be writing), and
every query filters on the merchant at query time: another merchant's rows never reach
Python, so they cannot leak into a sheet, a chart or the HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import marts, settings
from pipelines.defs.exports.naming import previous_week, week_monday
from pipelines.review_queries import failures_by_family_sql, weekly_kpis_sql

MARTS = (
    "fct_order_exceptions",
    "rpt_weekly_kpis",
    "rpt_recurring_issues",
    "dim_exception_types",
    "rpt_week_maturity",
    "rpt_exception_coverage",
)
# The risk marts (pipelines/defs/risk): one scoring as of the latest build, not weeks. A
# build without enough history writes them empty, an older set has none: the report says so.
RISK_MARTS = ("rpt_delivery_risk", "rpt_stockout_risk")
MERCHANT_SLICE = "merchant_id = $merchant_id"
TREND_WEEKS = 8
RECURRING_LOOKBACK_WEEKS = 4
RISK_TOP = 10  # orders and SKUs each: a short list a merchant acts on
# An open order is listed from this late probability on: the dashboard's default too
# (dashboards/data.py LATE_RISK_THRESHOLD), so the merchant and the manager see the same orders.
LATE_RISK_THRESHOLD = 0.3
_SQL_DIR = Path(__file__).with_name("sql")
# Timestamps in the marts are naive UTC; merchants read the reporting time zone (OEX_TIMEZONE).
_TIMESTAMP_COLUMNS = (
    "placed_at",
    "detected_at",
    "resolved_at",
    "first_detected_at",
    "last_detected_at",
    "due_at",
    "features_as_of",
)


@dataclass(frozen=True)
class Merchant:
    merchant_id: str
    merchant_name: str


@dataclass(frozen=True)
class RiskList:
    """One merchant's top items of one risk mart, most expected impact first."""

    rows: pd.DataFrame
    scored: bool  # False: the mart is absent or empty, not enough history yet


@dataclass(frozen=True)
class MerchantRisk:
    """What is about to go wrong for the merchant: open orders likely to end late, SKUs
    likely to run out before replenishment. Shown in the report of the week before the one
    the risk is about (`is_next_week`); an older week's report does not carry today's risk."""

    orders: RiskList
    skus: RiskList
    as_of: pd.Timestamp | None = None  # reporting time zone
    model_version: str | None = None
    is_next_week: bool = False

    @property
    def scored(self) -> bool:
        return self.orders.scored or self.skus.scored


NO_RISK = MerchantRisk(RiskList(pd.DataFrame(), False), RiskList(pd.DataFrame(), False))


@dataclass(frozen=True)
class MerchantWeek:
    """One merchant's week: the data behind both the workbook and the HTML report."""

    merchant: Merchant
    week: str
    last_week: str
    kpis_by_week: pd.DataFrame  # one row per week of the trend, oldest first
    exceptions_by_family: pd.DataFrame  # family, this_week, last_week (failures)
    exceptions: pd.DataFrame
    recurring_issues: pd.DataFrame
    suggested_actions: pd.DataFrame
    # the week and the one before, compared like with like (pipelines.review_queries)
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    # a week whose failures are still appearing, and the share expected to be visible
    is_provisional: bool = False
    share_visible: float = 1.0
    provisional_weeks: tuple[str, ...] = ()
    # sub-types that could not judge every order of this merchant's week
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)
    # at risk next week: the merchant's own open orders and SKUs
    risk: MerchantRisk = NO_RISK

    def kpis(self, week: str) -> dict[str, float]:
        """The week's counts and the rates a merchant reads, zeros for a week without orders;
        the week and the one before as compared (the one before at the same age when this
        week is provisional)."""
        if week in set(self.comparison.get("week", ())):
            rows = self.comparison[self.comparison["week"] == week]
            counts = {column: float(rows[column].sum()) for column in COUNT_COLUMNS}
        else:
            rows = self.kpis_by_week[self.kpis_by_week["week"] == week]
            counts = {column: float(rows[column].sum()) for column in COUNT_COLUMNS}
        return {**counts, **_rates(counts)}


COUNT_COLUMNS = (
    "orders",
    "orders_with_exception",
    "exceptions",
    "open_exceptions",
    "overdue_exceptions",
    "exceptions_within_sla",
    "exceptions_closed",
    "successes",
    "recurrences",
    "special_requests",
)


def _rates(counts: dict[str, float]) -> dict[str, float | None]:
    def share(numerator: str, denominator: str) -> float | None:
        return counts[numerator] / counts[denominator] if counts[denominator] else None

    return {
        "exception_rate": share("orders_with_exception", "orders"),
        "sla_met_share": share("exceptions_within_sla", "exceptions"),
        "success_rate": share("successes", "exceptions_closed"),
        "recurrence_rate": share("recurrences", "exceptions"),
    }


@cache
def _sql(name: str) -> str:
    return (_SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


class MartsReader:
    """Parameterised queries over the marts Parquet files of one folder."""

    def __init__(self, marts_dir: Path | None = None) -> None:
        # resolved once: every report of this reader comes from one build's set, even if
        # an export publishes the next one meanwhile
        folder = settings.published_marts_dir(marts_dir)
        self.paths = {name: marts.source(folder, name) for name in MARTS}
        self.risk_paths = {
            name: marts.source(folder, name) for name in RISK_MARTS if marts.exists(folder, name)
        }
        self._scorings: dict[str, pd.Series | None] | None = None
        missing = [
            str(marts.location(folder, name)) for name in MARTS if not marts.exists(folder, name)
        ]
        if missing:
            raise FileNotFoundError(
                "The exported marts are missing: "
                + ", ".join(missing)
                + ". Run the daily build (`oex run`) before exporting merchant reports."
            )
        self.connection = duckdb.connect()

    def close(self) -> None:
        self.connection.close()

    def query(self, name: str, sql: str | None = None, **parameters: object) -> pd.DataFrame:
        """A query of sql/<name>.sql (or the given sql) with the parameters it uses."""
        text = sql or _sql(name)
        bound = {name: str(path) for name, path in {**self.paths, **self.risk_paths}.items()}
        bound |= {"exceptions": bound["fct_order_exceptions"], "kpis": bound["rpt_weekly_kpis"]}
        used = {key: value for key, value in {**bound, **parameters}.items() if f"${key}" in text}
        frame = self.connection.execute(text, used).df()
        for column in _TIMESTAMP_COLUMNS:
            if column in frame.columns:
                frame[column] = _to_local_time(frame[column])
        return frame

    def merchants_of_week(self, week: str, merchant_id: str | None) -> list[Merchant]:
        if merchant_id is not None:
            known = self.query("merchant_known", merchant_id=merchant_id)
            if known.empty:
                raise ValueError(f"merchant {merchant_id!r} does not appear in the marts")
            return [_merchant(known.iloc[0])]
        frame = self.query("merchants_of_week", week=week, merchant_id=None)
        return [_merchant(row) for _, row in frame.iterrows()]

    def maturity(self) -> tuple[dict[str, tuple[bool, float]], object]:
        """Each week's maturity (is_mature, expected share visible) and as_of."""
        rows = self.query("week_maturity")
        maturity = {
            row.week: (bool(row.is_mature), float(row.expected_share_visible))
            for row in rows.itertuples(index=False)
        }
        return maturity, (rows["as_of"].max() if len(rows) else None)

    def merchant_week(self, merchant: Merchant, week: str) -> MerchantWeek:
        last_week = previous_week(week)
        scope = {"merchant_id": merchant.merchant_id, "week": week}
        maturity, as_of = self.maturity()
        is_mature, share_visible = maturity.get(week, (True, 1.0))
        # a provisional week meets the week before at the same age
        before_cutoff = None if is_mature or as_of is None else as_of - pd.Timedelta(days=7)
        compared = {
            **scope,
            "previous_week": last_week,
            "before_cutoff": before_cutoff,
            "as_of": as_of if as_of is not None else pd.Timestamp.max,
        }
        comparison = self.query("comparison", weekly_kpis_sql(MERCHANT_SLICE), **compared)
        requests = self.query("special_requests", **scope, last_week=last_week)
        comparison = comparison.merge(requests, on="week", how="left").fillna(
            {"special_requests": 0}
        )
        by_family = self.query("by_family", failures_by_family_sql(MERCHANT_SLICE), **compared)
        return MerchantWeek(
            merchant=merchant,
            week=week,
            last_week=last_week,
            kpis_by_week=self._trend(merchant.merchant_id, week),
            exceptions_by_family=_family_columns(by_family, week, last_week),
            exceptions=self.query("exceptions_of_week", **scope),
            recurring_issues=self.query(
                "recurring_issues",
                **scope,
                first_week=previous_week(week, RECURRING_LOOKBACK_WEEKS - 1),
            ),
            suggested_actions=self.query("suggested_actions", **scope),
            comparison=comparison,
            is_provisional=not is_mature,
            share_visible=share_visible,
            provisional_weeks=tuple(sorted(w for w, (m, _) in maturity.items() if not m)),
            coverage=self.query("coverage_of_week", **scope),
            risk=self.risk(merchant.merchant_id, week),
        )

    def risk(self, merchant_id: str, week: str) -> MerchantRisk:
        """The merchant's top open orders and SKUs at risk, as of the latest scoring; only
        in the report of the week before the one it is about."""
        if self._scorings is None:  # one look per reader, not per merchant
            self._scorings = {name: self._scoring(name) for name in RISK_MARTS}
        scorings = self._scorings
        scored = [row for row in scorings.values() if row is not None]
        if not scored:
            return NO_RISK
        as_of = max(row["features_as_of"] for row in scored)
        models = [str(row["model_version"]) for row in scored if pd.notna(row["model_version"])]
        # the week after the report's week starts 7 days after its Monday; a build inside the
        # report's week (the week still running) looks ahead to the next one as well
        monday = pd.Timestamp(week_monday(week))
        is_next_week = monday <= as_of < monday + pd.Timedelta(days=14)
        mine = {"merchant_id": merchant_id, "top": RISK_TOP}
        orders = (
            self.query("delivery_risk_of_merchant", **mine, threshold=LATE_RISK_THRESHOLD)
            if scorings["rpt_delivery_risk"] is not None and is_next_week
            else pd.DataFrame()
        )
        skus = (
            self.query("stockout_risk_of_merchant", **mine)
            if scorings["rpt_stockout_risk"] is not None and is_next_week
            else pd.DataFrame()
        )
        return MerchantRisk(
            RiskList(orders, scorings["rpt_delivery_risk"] is not None),
            RiskList(skus, scorings["rpt_stockout_risk"] is not None),
            as_of=as_of,
            model_version=" / ".join(models) or None,
            is_next_week=is_next_week,
        )

    def _scoring(self, name: str) -> pd.Series | None:
        """A risk mart's scoring as a whole; None when absent or empty (not enough history)."""
        if name not in self.risk_paths:
            return None
        row = self.query("risk_scoring", risk=str(self.risk_paths[name])).iloc[0]
        return row if row["scored_rows"] else None

    def _trend(self, merchant_id: str, week: str) -> pd.DataFrame:
        first_week = previous_week(week, TREND_WEEKS - 1)
        found = self.query("weekly_kpis", merchant_id=merchant_id, week=week, first_week=first_week)
        # Every week of the trend gets a row, so a quiet week shows as zero instead of vanishing.
        weeks = pd.DataFrame(
            {"week": [previous_week(week, back) for back in range(TREND_WEEKS - 1, -1, -1)]}
        )
        trend = weeks.merge(found, on="week", how="left").fillna(0)
        counts = [column for column in trend.columns if column != "week"]
        trend[counts] = trend[counts].astype("int64")
        rates = pd.DataFrame([_rates(row) for row in trend[counts].to_dict("records")])
        return pd.concat([trend, rates["exception_rate"]], axis=1)


def _merchant(row: pd.Series) -> Merchant:
    name = row["merchant_name"]
    merchant_id = str(row["merchant_id"])
    return Merchant(merchant_id, str(name) if isinstance(name, str) and name else merchant_id)


def _family_columns(frame: pd.DataFrame, week: str, last_week: str) -> pd.DataFrame:
    wide = frame.pivot_table(
        index="family", columns="week", values="exceptions", aggfunc="sum", fill_value=0
    )
    wide = wide.reindex(columns=[week, last_week], fill_value=0)
    wide.columns = ["this_week", "last_week"]
    return wide.reset_index().sort_values(["this_week", "family"], ascending=[False, True])


def _to_local_time(column: pd.Series) -> pd.Series:
    if column.empty or not pd.api.types.is_datetime64_any_dtype(column):
        return column
    local = column.dt.tz_localize("UTC").dt.tz_convert(settings.reporting_timezone())
    return local.dt.tz_localize(None)
