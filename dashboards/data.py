"""Every query the dashboard runs, and nothing else.

The dashboard reads only the Parquet marts published in `settings.marts_dir()` (the one
build's set `settings.published_marts_dir()` resolves to), and the risks' track record
`oex evaluate` writes (reports/risk.json); it never opens the warehouse, so a
pipeline run can write while people look. Each query runs in an in-memory DuckDB with the
file path and every filter value as parameters, aggregates there (the fact tables can hold
tens of millions of rows) and hands pandas only the small result. Results are cached with a
TTL and keyed on the published folder and the files' modification times, so a finished
pipeline run shows up on the next rerun without a restart.
"""

from __future__ import annotations

import glob
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import streamlit as st

from dashboards.components.formatting import previous_week
from pipelines import marts, settings
from pipelines.review_queries import weekly_kpis_sql

CACHE_TTL_SECONDS = 600
EXCEPTION_LIST_LIMIT = 2_000
ASSET_CHECKS = "asset_checks"
MARTS = (
    "fct_order_exceptions",
    "fct_orders",
    "fct_order_timeline",
    "dim_exception_types",
    "rpt_weekly_exception_summary",
    "rpt_weekly_kpis",
    "rpt_recurring_issues",
    "rpt_root_causes",
    "rpt_exception_attribution",
    "rpt_ingestion_health",
    "rpt_quarantine",
    "rpt_week_maturity",
    "rpt_exception_coverage",
    "rpt_source_coverage",
    "rpt_delivery_risk",
    "rpt_stockout_risk",
)
# The marts store naive UTC; people read the reporting time zone (OEX_TIMEZONE), passed to each
# query as $tz (see _run).


def _local(column: str) -> str:
    """A UTC column as wall-clock time in the reporting time zone."""
    return f"timezone($tz, timezone('UTC', {column}))"


# Dimension name -> column in fct_order_exceptions; identifiers only ever come from here.
DIMENSION_COLUMNS = {
    "merchant": "merchant_name",
    "warehouse": "warehouse_id",
    "channel": "channel",
    "carrier": "carrier",
    "province": "province",
    "sku": "sku",
    "payment_method": "payment_method",
}
# Dimensions an order has one value of, so exceptions per 1,000 of its orders is a rate; an
# order holds several SKUs.
RATE_DIMENSIONS = tuple(dimension for dimension in DIMENSION_COLUMNS if dimension != "sku")
_SLICE = """
    ($merchants::varchar[] is null or list_contains($merchants::varchar[], merchant_id))
    and ($warehouses::varchar[] is null or list_contains($warehouses::varchar[], warehouse_id))
    and ($channels::varchar[] is null or list_contains($channels::varchar[], channel))
"""


@dataclass(frozen=True)
class Filters:
    """The sidebar's choices, shared by every page. Empty tuples mean 'all'."""

    week: str
    merchants: tuple[str, ...] = field(default=())
    warehouses: tuple[str, ...] = field(default=())
    channels: tuple[str, ...] = field(default=())

    def slice_parameters(self) -> dict[str, list[str] | None]:
        return {
            "merchants": list(self.merchants) or None,
            "warehouses": list(self.warehouses) or None,
            "channels": list(self.channels) or None,
        }

    def as_key(self) -> tuple:
        return (self.week, self.merchants, self.warehouses, self.channels)


# ---------------------------------------------------------------- files


def mart_path(name: str, published: Path | None = None) -> Path:
    """What read_parquet reads for a mart in the published set (`published`, else resolved
    now): its file, or a glob over a partitioned fact's files (pipelines/marts.py). The check
    results lie beside the sets, in the marts folder itself: check runs merge into that one
    file after the export, whichever set is published."""
    if name == ASSET_CHECKS:
        return settings.marts_dir() / f"{name}.parquet"
    return Path(marts.source(published or settings.published_marts_dir(), name))


def _mart_location(name: str, published: Path) -> Path:
    """The mart's file or folder of partitions, for its modification time and size."""
    if name == ASSET_CHECKS:
        return settings.marts_dir() / f"{name}.parquet"
    return marts.location(published, name)


def missing_marts(*names: str) -> list[str]:
    published = settings.published_marts_dir()
    return [name for name in names if not marts.files(published, name)]


def _signature(names: tuple[str, ...]) -> tuple:
    """What the cache keys on besides the arguments: the published set's folder (a new build
    is a new folder) and each file's mtime and size (a plain folder's files are replaced)."""
    published = settings.published_marts_dir()
    signature = []
    for name in names:
        try:
            stat = _mart_location(name, published).stat()
            signature.append((name, stat.st_mtime_ns, stat.st_size))
        except FileNotFoundError:
            signature.append((name, None, None))
    return (str(published), *signature)


def freshness() -> pd.DataFrame:
    """One row per mart file: when it was last written and its size (no caching: a stat)."""
    rows = []
    now = time.time()
    published = settings.published_marts_dir()
    for name in (*MARTS, ASSET_CHECKS):
        try:
            stat = _mart_location(name, published).stat()
        except FileNotFoundError:
            rows.append({"mart": name, "modified_at": pd.NaT, "age_hours": None, "size": None})
            continue
        size = sum(path.stat().st_size for path in marts.files(published, name)) or stat.st_size
        rows.append(
            {
                "mart": name,
                "modified_at": datetime.fromtimestamp(
                    stat.st_mtime, tz=ZoneInfo(settings.reporting_timezone())
                ).replace(microsecond=0, tzinfo=None),
                "age_hours": (now - stat.st_mtime) / 3600,
                "size": size,
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- running queries


@st.cache_resource(show_spinner=False)
def _database() -> duckdb.DuckDBPyConnection:
    database = duckdb.connect(":memory:")
    # The pipeline replaces mart files by renaming; a block cache keyed on the path could
    # serve pieces of the old file, so DuckDB always reads the file as it is now.
    database.execute("set enable_external_file_cache = false")
    return database


def _run(sql: str, parameters: dict) -> pd.DataFrame:
    """One parameterised query in its own cursor (Streamlit serves sessions from threads).

    DuckDB opens a Parquet file once to plan and again to scan. A published build's files
    never change, but asset_checks.parquet and the files of a plain folder are replaced by
    an atomic rename: when that happens in between, the two opens see different files and
    the scan fails; the query is then simply run again on the new file. Errors with
    unchanged files are real and raised at once.
    """
    files = [
        value
        for value in parameters.values()
        if isinstance(value, str) and value.endswith(".parquet")
    ]
    if "$tz" in sql:
        parameters = {**parameters, "tz": settings.reporting_timezone()}
    for attempt in range(_ATTEMPTS):
        before = _file_versions(files)
        cursor = _database().cursor()
        try:
            return cursor.execute(sql, parameters).df()
        except duckdb.Error:
            if attempt == _ATTEMPTS - 1 or _file_versions(files) == before:
                raise
        finally:
            cursor.close()
    raise AssertionError("unreachable")


_ATTEMPTS = 5


def _file_versions(files: list[str]) -> list[tuple | None]:
    versions = []
    for file in files:
        for path in sorted(glob.glob(file)) if "*" in file else [file]:
            try:
                stat = os.stat(path)
                versions.append((stat.st_ino, stat.st_mtime_ns, stat.st_size))
            except FileNotFoundError:
                versions.append(None)
    return versions


def _paths(*names: str) -> dict[str, str]:
    """The files of one query, from one resolution of the published set: never two builds."""
    published = settings.published_marts_dir()
    return {name: str(mart_path(name, published)) for name in names}


# ---------------------------------------------------------------- weeks and filter choices


@dataclass(frozen=True)
class Weeks:
    """The weeks with data, newest first; the default is the last mature one.

    A week is mature once every failure family's observation window has passed since its
    last day (rpt_week_maturity): logistics and fulfilment failures show up days after the
    order, so a younger week is provisional and looks better than it will."""

    available: tuple[str, ...]
    default: str | None
    maturity: dict[str, tuple[bool, float]] = field(default_factory=dict)
    as_of: datetime | None = None

    def is_provisional(self, week: str) -> bool:
        return not self.maturity.get(week, (True, 1.0))[0]

    def share_visible(self, week: str) -> float:
        return self.maturity.get(week, (True, 1.0))[1]

    @property
    def provisional(self) -> tuple[str, ...]:
        return tuple(week for week in self.available if self.is_provisional(week))


def weeks() -> Weeks:
    """Weeks with data, newest first, the default (the last mature one) and their maturity."""
    return _weeks(_signature(("rpt_weekly_kpis", "rpt_week_maturity")))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _weeks(signature: tuple) -> Weeks:
    paths = _paths("rpt_weekly_kpis", "rpt_week_maturity")
    listed = _run(
        "select distinct week from read_parquet($kpis) where week is not null order by week desc",
        {"kpis": paths["rpt_weekly_kpis"]},
    )["week"].tolist()
    if not listed:
        return Weeks((), None)
    if missing_marts("rpt_week_maturity"):
        return Weeks(tuple(listed), listed[0])
    rows = _run(
        """
        select week, is_mature, expected_share_visible, as_of
        from read_parquet($maturity)
        where family = 'all'
        """,
        {"maturity": paths["rpt_week_maturity"]},
    )
    maturity = {
        row.week: (bool(row.is_mature), float(row.expected_share_visible))
        for row in rows.itertuples(index=False)
    }
    mature = [week for week in listed if maturity.get(week, (True, 1.0))[0]]
    as_of = pd.Timestamp(rows["as_of"].max()).to_pydatetime() if len(rows) else None
    return Weeks(tuple(listed), (mature or listed)[0], maturity, as_of)


def comparison_cutoff(week: str) -> datetime | None:
    """For a provisional week, the moment that puts the week before at the same age (as_of
    minus seven days): its failures are counted only up to then, like with like. None for a
    mature week: both are complete."""
    known = weeks()
    if not known.is_provisional(week) or known.as_of is None:
        return None
    return known.as_of - timedelta(days=7)


def filter_choices() -> dict[str, pd.DataFrame]:
    return _filter_choices(_signature(("rpt_weekly_kpis", "fct_order_exceptions")))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _filter_choices(signature: tuple) -> dict[str, pd.DataFrame]:
    paths = _paths("rpt_weekly_kpis", "fct_order_exceptions")
    kpis = {"kpis": paths["rpt_weekly_kpis"]}
    # Names come from the exceptions fact (far smaller than fct_orders); a merchant without a
    # single exception still appears, by id, through rpt_weekly_kpis.
    merchants = _run(
        """
        with ids as (select distinct merchant_id from read_parquet($kpis)),
        names as (
            select merchant_id, any_value(merchant_name) as merchant_name,
            from read_parquet($exceptions)
            group by merchant_id
        ),
        final as (
            select ids.merchant_id, coalesce(names.merchant_name, ids.merchant_id) as merchant_name,
            from ids left join names using (merchant_id)
        )
        select * from final order by merchant_name
        """,
        {**kpis, "exceptions": paths["fct_order_exceptions"]},
    )
    warehouses = _run("select distinct warehouse_id from read_parquet($kpis) order by 1", kpis)
    channels = _run("select distinct channel from read_parquet($kpis) order by 1", kpis)
    return {"merchants": merchants, "warehouses": warehouses, "channels": channels}


# ---------------------------------------------------------------- weekly review


def weekly_kpis(filters: Filters) -> pd.DataFrame:
    """The KPI tiles for the selected week and the week before: one row per week. Failures
    only; a provisional week is compared with the week before at the same age."""
    names = ("rpt_weekly_kpis", "fct_order_exceptions", "rpt_week_maturity")
    return _weekly_kpis(filters.as_key(), comparison_cutoff(filters.week), _signature(names))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _weekly_kpis(key: tuple, before_cutoff: datetime | None, signature: tuple) -> pd.DataFrame:
    filters = Filters(*key)
    paths = _paths("rpt_weekly_kpis", "fct_order_exceptions")
    parameters = {
        "kpis": paths["rpt_weekly_kpis"],
        "exceptions": paths["fct_order_exceptions"],
        "week": filters.week,
        "previous_week": previous_week(filters.week),
        "before_cutoff": before_cutoff,
        "as_of": weeks().as_of or datetime(9999, 1, 1),
        **filters.slice_parameters(),
    }
    return _run(weekly_kpis_sql(_SLICE), parameters)


def family_trend(filters: Filters, weeks_shown: tuple[str, ...]) -> pd.DataFrame:
    """Share of orders with a failure of each family, per week: week, family,
    exception_rate, is_provisional and expected_share_visible (how complete the week is)."""
    names = ("fct_order_exceptions", "rpt_weekly_kpis", "rpt_week_maturity")
    return _family_trend(filters.as_key(), weeks_shown, _signature(names))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _family_trend(key: tuple, weeks_shown: tuple[str, ...], signature: tuple) -> pd.DataFrame:
    filters = Filters(*key)
    paths = _paths("fct_order_exceptions", "rpt_weekly_kpis")
    sql = f"""
        with orders as (
            select week, sum(orders) as orders,
            from read_parquet($kpis)
            where list_contains($weeks::varchar[], week) and {_SLICE}
            group by week
        ),
        failing as (
            select week, family, count(distinct order_id) as orders_failing,
            from read_parquet($exceptions)
            where list_contains($weeks::varchar[], week) and kind = 'failure' and {_SLICE}
            group by week, family
        ),
        families as (
            select distinct family from failing
        ),
        final as (
            select
                orders.week,
                families.family,
                coalesce(failing.orders_failing, 0) / orders.orders as exception_rate,
            from orders
            cross join families
            left join failing using (week, family)
        )
        select * from final order by week, family
    """
    parameters = {
        "kpis": paths["rpt_weekly_kpis"],
        "exceptions": paths["fct_order_exceptions"],
        "weeks": list(weeks_shown),
        **filters.slice_parameters(),
    }
    trend = _run(sql, parameters)
    known = weeks()
    trend["is_provisional"] = [known.is_provisional(week) for week in trend["week"]]
    trend["expected_share_visible"] = [known.share_visible(week) for week in trend["week"]]
    return trend


def type_share(filters: Filters) -> pd.DataFrame:
    """Exceptions of the week per family and sub-type."""
    return _type_share(filters.as_key(), _signature(("rpt_weekly_exception_summary",)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _type_share(key: tuple, signature: tuple) -> pd.DataFrame:
    filters = Filters(*key)
    sql = f"""
        with summary as (
            select * from read_parquet($summary)
            where week = $week and kind = 'failure' and {_SLICE}
        ),
        final as (
            select family, exception_type, sum(exceptions)::bigint as exceptions,
            from summary
            group by family, exception_type
        )
        select * from final where exceptions > 0 order by exceptions desc
    """
    parameters = {
        "summary": str(mart_path("rpt_weekly_exception_summary")),
        "week": filters.week,
        **filters.slice_parameters(),
    }
    return _run(sql, parameters)


def handling_by_type(filters: Filters) -> pd.DataFrame:
    """Per sub-type: first-response hours (median and P90) against the first-response SLA,
    the share answered within it, and resolution hours beside (a different measure)."""
    return _handling_by_type(filters.as_key(), _signature(("fct_order_exceptions",)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _handling_by_type(key: tuple, signature: tuple) -> pd.DataFrame:
    filters = Filters(*key)
    sql = f"""
        with exceptions as (
            select * from read_parquet($exceptions)
            where week = $week and kind = 'failure' and {_SLICE}
        ),
        final as (
            select
                family,
                exception_type,
                count(*) as exceptions,
                median(response_hours) as median_response_hours,
                quantile_cont(response_hours, 0.9) as p90_response_hours,
                any_value(sla_hours) as sla_hours,
                avg(is_within_sla::int) as sla_met_share,
                median(handling_hours) as median_resolution_hours,
            from exceptions
            group by family, exception_type
        )
        select * from final order by median_response_hours desc nulls last
    """
    parameters = {
        "exceptions": str(mart_path("fct_order_exceptions")),
        "week": filters.week,
        **filters.slice_parameters(),
    }
    return _run(sql, parameters)


def root_cause_pareto(filters: Filters) -> pd.DataFrame:
    """Root causes of the week's failures, largest first, with cumulative share, the owner
    team, last week's count (at the same age when this week is provisional) and the action."""
    names = ("fct_order_exceptions", "rpt_week_maturity")
    return _root_cause_pareto(filters.as_key(), comparison_cutoff(filters.week), _signature(names))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _root_cause_pareto(
    key: tuple, before_cutoff: datetime | None, signature: tuple
) -> pd.DataFrame:
    filters = Filters(*key)
    sql = f"""
        with exceptions as (
            select week, root_cause, root_cause_owner_team, suggested_action,
            from read_parquet($exceptions)
            where week in ($week, $previous_week) and kind = 'failure' and {_SLICE}
                and (week = $week or $before_cutoff::timestamp is null
                     or detected_at <= $before_cutoff::timestamp)
        ),
        counted as (
            select
                root_cause,
                count(*) filter (where week = $week) as exceptions,
                count(*) filter (where week = $previous_week) as exceptions_last_week,
                any_value(root_cause_owner_team) as owner_team,
                any_value(suggested_action) as suggested_action,
            from exceptions
            group by root_cause
        ),
        final as (
            select
                root_cause,
                exceptions,
                exceptions / sum(exceptions) over () as share,
                sum(exceptions) over (
                    order by exceptions desc, root_cause
                    rows between unbounded preceding and current row
                ) / sum(exceptions) over () as cumulative_share,
                owner_team,
                exceptions_last_week,
                exceptions - exceptions_last_week as change_vs_last_week,
                suggested_action,
            from counted
            where exceptions > 0
        )
        select * from final order by exceptions desc, root_cause
    """
    parameters = {
        "exceptions": str(mart_path("fct_order_exceptions")),
        "week": filters.week,
        "previous_week": previous_week(filters.week),
        "before_cutoff": before_cutoff,
        **filters.slice_parameters(),
    }
    return _run(sql, parameters)


def what_changed(filters: Filters, top: int = 10) -> pd.DataFrame:
    """The ten values that moved the week's failures most against last week (at the same age
    when this week is provisional), each along a dimension the catalogue says can explain its
    root cause, within the sidebar's filters. Columns: root_cause, dimension, dimension_value,
    exceptions, exceptions_last_week, change, contribution_share (of the root cause's change
    along that dimension)."""
    names = ("fct_order_exceptions", "dim_exception_types", "rpt_week_maturity")
    return _what_changed(filters.as_key(), comparison_cutoff(filters.week), top, _signature(names))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _what_changed(
    key: tuple, before_cutoff: datetime | None, top: int, signature: tuple
) -> pd.DataFrame:
    filters = Filters(*key)
    along = " union all ".join(
        f"select week, root_cause, '{dimension}' as dimension, {column}::varchar as value, "
        f"from exceptions where {column} is not null and contains(explained_by, ';{dimension};')"
        for dimension, column in DIMENSION_COLUMNS.items()
    )
    sql = f"""
        with types as (
            select exception_type, ';' || explained_by || ';' as explained_by,
            from read_parquet($types)
        ),
        exceptions as (
            select facts.*, types.explained_by,
            from read_parquet($exceptions) as facts
            inner join types using (exception_type)
            where facts.week in ($week, $previous_week) and facts.kind = 'failure' and {_SLICE}
                and (facts.week = $week or $before_cutoff::timestamp is null
                     or facts.detected_at <= $before_cutoff::timestamp)
        ),
        values_of as ({along}),
        counted as (
            select
                root_cause,
                dimension,
                value as dimension_value,
                count(*) filter (where week = $week) as exceptions,
                count(*) filter (where week = $previous_week) as exceptions_last_week,
            from values_of
            group by all
        ),
        final as (
            select
                *,
                exceptions - exceptions_last_week as change,
                (exceptions - exceptions_last_week) / nullif(
                    sum(exceptions - exceptions_last_week)
                        over (partition by root_cause, dimension),
                    0
                ) as contribution_share,
            from counted
        )
        select * from final
        where change <> 0
        order by abs(change) desc, root_cause, dimension, dimension_value
        limit $top
    """
    paths = _paths("fct_order_exceptions", "dim_exception_types")
    parameters = {
        "exceptions": paths["fct_order_exceptions"],
        "types": paths["dim_exception_types"],
        "week": filters.week,
        "previous_week": previous_week(filters.week),
        "before_cutoff": before_cutoff,
        "top": top,
        **filters.slice_parameters(),
    }
    return _run(sql, parameters)


def special_requests(filters: Filters) -> pd.DataFrame:
    """The week's special requests (work to do, not failures) per sub-type: how many, the
    share answered within their first-response SLA, how many are still open."""
    return _special_requests(filters.as_key(), _signature(("fct_order_exceptions",)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _special_requests(key: tuple, signature: tuple) -> pd.DataFrame:
    filters = Filters(*key)
    sql = f"""
        with requests as (
            select * from read_parquet($exceptions)
            where week = $week and kind = 'special_request' and {_SLICE}
        ),
        final as (
            select
                exception_type,
                count(*) as exceptions,
                avg(is_within_sla::int) as sla_met_share,
                count(*) filter (where is_open) as open_exceptions,
                median(response_hours) as median_response_hours,
                any_value(sla_hours) as sla_hours,
            from requests
            group by exception_type
        )
        select * from final order by exceptions desc, exception_type
    """
    parameters = {
        "exceptions": str(mart_path("fct_order_exceptions")),
        "week": filters.week,
        **filters.slice_parameters(),
    }
    return _run(sql, parameters)


def coverage(filters: Filters) -> pd.DataFrame:
    """Per sub-type, the share of the week's orders its rule could judge (their source
    provides what it needs): exception_type, family, kind, orders, orders_assessed,
    assessed_share."""
    names = ("rpt_exception_coverage", "dim_exception_types")
    return _coverage(filters.as_key(), _signature(names))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _coverage(key: tuple, signature: tuple) -> pd.DataFrame:
    filters = Filters(*key)
    sql = f"""
        with covered as (
            select * from read_parquet($coverage)
            where week = $week and {_SLICE}
        ),
        types as (
            select exception_type, family, kind, from read_parquet($types)
        ),
        final as (
            select
                exception_type,
                any_value(types.family) as family,
                any_value(types.kind) as kind,
                sum(orders)::bigint as orders,
                sum(orders_assessed)::bigint as orders_assessed,
                sum(orders_assessed) / nullif(sum(orders), 0) as assessed_share,
            from covered
            inner join types using (exception_type)
            group by exception_type
        )
        select * from final order by assessed_share, exception_type
    """
    paths = _paths("rpt_exception_coverage", "dim_exception_types")
    parameters = {
        "coverage": paths["rpt_exception_coverage"],
        "types": paths["dim_exception_types"],
        "week": filters.week,
        **filters.slice_parameters(),
    }
    return _run(sql, parameters)


# ---------------------------------------------------------------- root-cause explorer


@dataclass(frozen=True)
class Focus:
    """What the explorer and the exception list narrow down to, beyond the sidebar."""

    families: tuple[str, ...] = ()
    exception_types: tuple[str, ...] = ()
    dimension: str | None = None
    dimension_value: str | None = None

    def parameters(self) -> dict:
        column = DIMENSION_COLUMNS.get(self.dimension or "")
        return {
            "families": list(self.families) or None,
            "types": list(self.exception_types) or None,
            "drill_value": self.dimension_value if column else None,
        }

    def drill_column(self) -> str:
        # Without a drill, compare a column with itself so the clause is always true.
        return DIMENSION_COLUMNS.get(self.dimension or "", "exception_id")


_FOCUS = """
    ($families::varchar[] is null or list_contains($families::varchar[], family))
    and ($types::varchar[] is null or list_contains($types::varchar[], exception_type))
"""


def dimension_breakdown(
    filters: Filters, focus: Focus, dimension: str, weeks_shown: tuple[str, ...], top: int = 15
) -> pd.DataFrame:
    """Exceptions per sub-type and value of one dimension (its `top` biggest values)."""
    if dimension not in DIMENSION_COLUMNS:
        raise ValueError(f"unknown dimension {dimension!r}")
    return _dimension_breakdown(
        filters.as_key(), focus, dimension, weeks_shown, top, _signature(("fct_order_exceptions",))
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _dimension_breakdown(
    key: tuple, focus: Focus, dimension: str, weeks_shown: tuple, top: int, signature: tuple
) -> pd.DataFrame:
    filters = Filters(*key)
    column = DIMENSION_COLUMNS[dimension]
    sql = f"""
        with exceptions as (
            select family, exception_type, coalesce({column}::varchar, '?') as dimension_value,
            from read_parquet($exceptions)
            where list_contains($weeks::varchar[], week) and {_SLICE} and {_FOCUS}
        ),
        cells as (
            select family, exception_type, dimension_value, count(*) as exceptions,
            from exceptions
            group by all
        ),
        biggest as (
            select dimension_value, from cells
            group by dimension_value
            order by sum(exceptions) desc, dimension_value
            limit $top
        ),
        final as (
            select cells.* from cells semi join biggest using (dimension_value)
        )
        select * from final order by exceptions desc
    """
    parameters = {
        "exceptions": str(mart_path("fct_order_exceptions")),
        "weeks": list(weeks_shown),
        "top": top,
        **filters.slice_parameters(),
        **focus.parameters(),
    }
    parameters.pop("drill_value")
    return _run(sql, parameters)


def orders_by_dimension(
    filters: Filters, dimension: str, weeks_shown: tuple[str, ...]
) -> pd.DataFrame:
    """Orders per value of a dimension in the weeks shown: what a heatmap rate divides by."""
    if dimension not in RATE_DIMENSIONS:
        raise ValueError(f"no order count by {dimension!r}: an order holds several")
    return _orders_by_dimension(
        filters.as_key(), dimension, weeks_shown, _signature(("fct_orders",))
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _orders_by_dimension(
    key: tuple, dimension: str, weeks_shown: tuple, signature: tuple
) -> pd.DataFrame:
    filters = Filters(*key)
    column = DIMENSION_COLUMNS[dimension]
    sql = f"""
        select coalesce({column}::varchar, '?') as dimension_value, count(*) as orders,
        from read_parquet($orders)
        where list_contains($weeks::varchar[], week) and {_SLICE}
        group by all
    """
    parameters = {
        "orders": str(mart_path("fct_orders")),
        "weeks": list(weeks_shown),
        **filters.slice_parameters(),
    }
    return _run(sql, parameters)


def recurring_issues(
    filters: Filters, focus: Focus, weeks_shown: tuple[str, ...], limit: int = 100
) -> pd.DataFrame:
    """The keys that keep hitting the same exception, most occurrences first."""
    return _recurring_issues(
        filters.merchants, focus, weeks_shown, limit, _signature(("rpt_recurring_issues",))
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _recurring_issues(
    merchants: tuple, focus: Focus, weeks_shown: tuple, limit: int, signature: tuple
) -> pd.DataFrame:
    sql = f"""
        with issues as (
            select * from read_parquet($issues)
            where list_contains($weeks::varchar[], last_week)
              and ($merchants::varchar[] is null
                   or list_contains($merchants::varchar[], merchant_id))
              and {_FOCUS}
        ),
        final as (
            select key_type, recurrence_label, family, exception_type, merchant_id, occurrences,
                {_local("first_detected_at")} as first_detected_at,
                {_local("last_detected_at")} as last_detected_at,
                last_week,
            from issues
        )
        select * from final order by occurrences desc, last_detected_at desc limit $limit
    """
    parameters = {
        "issues": str(mart_path("rpt_recurring_issues")),
        "weeks": list(weeks_shown),
        "merchants": list(merchants) or None,
        "limit": limit,
        **focus.parameters(),
    }
    parameters.pop("drill_value")
    return _run(sql, parameters)


# ---------------------------------------------------------------- exception list and timeline

STATUSES = ("all", "open", "overdue")
LIST_COLUMNS = (
    "order_id",
    "exception_type",
    "family",
    "priority",
    "owner_team",
    "merchant_name",
    "warehouse_id",
    "channel",
    "carrier",
    "province",
    "sku",
    "detected_at",
    "first_response_at",
    "resolved_at",
    "handling_hours",
    "sla_hours",
    "is_open",
    "is_overdue",
    "resolution",
    "root_cause",
    "suggested_action",
    "week",
    "exception_id",
)


@dataclass(frozen=True)
class ExceptionPage:
    rows: pd.DataFrame
    total: int


def exception_list(
    filters: Filters,
    focus: Focus,
    status: str = "all",
    all_weeks: bool = False,
    limit: int = EXCEPTION_LIST_LIMIT,
) -> ExceptionPage:
    """Exceptions, open and overdue first, then by priority and newest; at most `limit`."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    return _exception_list(
        filters.as_key(), focus, status, all_weeks, limit, _signature(("fct_order_exceptions",))
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _exception_list(
    key: tuple, focus: Focus, status: str, all_weeks: bool, limit: int, signature: tuple
) -> ExceptionPage:
    filters = Filters(*key)
    local = {"detected_at", "first_response_at", "resolved_at", "placed_at"}
    columns = ", ".join(
        f"{_local(name)} as {name}" if name in local else name for name in LIST_COLUMNS
    )
    where = f"""
        ($all_weeks or week = $week) and {_SLICE} and {_FOCUS}
        and ($drill_value::varchar is null or {focus.drill_column()}::varchar = $drill_value)
        and ($status = 'all' or ($status = 'open' and is_open)
             or ($status = 'overdue' and is_overdue))
    """
    parameters = {
        "exceptions": str(mart_path("fct_order_exceptions")),
        "week": filters.week,
        "all_weeks": all_weeks,
        "status": status,
        **filters.slice_parameters(),
        **focus.parameters(),
    }
    rows = _run(
        f"""
        with exceptions as (
            select {columns}, from read_parquet($exceptions) where {where}
        )
        select * from exceptions
        order by is_overdue desc, is_open desc, priority, detected_at desc, exception_id
        limit $limit
        """,
        {**parameters, "limit": limit},
    )
    total = _run(f"select count(*) as n from read_parquet($exceptions) where {where}", parameters)[
        "n"
    ].iloc[0]
    return ExceptionPage(rows, int(total))


def order_timeline(order_id: str) -> pd.DataFrame:
    """Everything that happened to one order, oldest first (reporting time zone)."""
    return _order_timeline(order_id, _signature(("fct_order_timeline",)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False, max_entries=200)
def _order_timeline(order_id: str, signature: tuple) -> pd.DataFrame:
    sql = f"""
        with timeline as (
            select * from read_parquet($timeline) where order_id = $order_id
        ),
        final as (
            select {_local("occurred_at")} as occurred_at, source, event_type, detail,
            from timeline
        )
        select * from final order by occurred_at, source
    """
    return _run(sql, {"timeline": str(mart_path("fct_order_timeline")), "order_id": order_id})


def order_exceptions(order_id: str) -> pd.DataFrame:
    """The exceptions of one order with detection, first response and resolution times."""
    return _order_exceptions(order_id, _signature(("fct_order_exceptions",)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False, max_entries=200)
def _order_exceptions(order_id: str, signature: tuple) -> pd.DataFrame:
    sql = f"""
        with exceptions as (
            select * from read_parquet($exceptions) where order_id = $order_id
        ),
        final as (
            select exception_type, family, priority, owner_team,
                {_local("detected_at")} as detected_at,
                {_local("first_response_at")} as first_response_at,
                {_local("resolved_at")} as resolved_at,
                handling_hours, sla_hours, is_within_sla, is_open, is_overdue, resolution,
                root_cause, suggested_action,
            from exceptions
        )
        select * from final order by detected_at
    """
    return _run(sql, {"exceptions": str(mart_path("fct_order_exceptions")), "order_id": order_id})


# ---------------------------------------------------------------- data health


def _columns(path: str) -> set[str]:
    described = _run("describe select * from read_parquet($path)", {"path": path})
    return set(described["column_name"])


@dataclass(frozen=True)
class Shown:
    """A data-health table, or the raw file when its columns are not the expected ones."""

    rows: pd.DataFrame
    as_expected: bool


def ingestion_by_domain() -> Shown:
    return _ingestion_by_domain(_signature(("rpt_ingestion_health",)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _ingestion_by_domain(signature: tuple) -> Shown:
    path = str(mart_path("rpt_ingestion_health"))
    needed = {"domain", "ingested_at", "rows_loaded", "rows_quarantined", "status"}
    if not needed <= _columns(path):
        return Shown(_run("select * from read_parquet($path) limit 200", {"path": path}), False)
    sql = f"""
        with health as (select * from read_parquet($path)),
        final as (
            select
                domain,
                {_local("max(ingested_at)")} as last_ingested_at,
                count(*) as files,
                sum(rows_loaded)::bigint as rows_loaded,
                sum(rows_quarantined)::bigint as rows_quarantined,
                count(*) filter (where status = 'rejected') as rejected_files,
                count(*) filter (where status = 'not_claimed') as not_claimed_files,
            from health
            group by domain
        )
        select * from final order by domain
    """
    return Shown(_run(sql, {"path": path}), True)


def recent_ingestions(limit: int = 200) -> pd.DataFrame:
    return _recent_ingestions(limit, _signature(("rpt_ingestion_health",)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _recent_ingestions(limit: int, signature: tuple) -> pd.DataFrame:
    path = str(mart_path("rpt_ingestion_health"))
    if "ingested_at" not in _columns(path):
        return _run(
            "select * from read_parquet($path) limit $limit", {"path": path, "limit": limit}
        )
    return _run(
        "select * from read_parquet($path) order by ingested_at desc limit $limit",
        {"path": path, "limit": limit},
    )


def quarantine_reasons() -> Shown:
    return _quarantine_reasons(_signature(("rpt_quarantine",)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _quarantine_reasons(signature: tuple) -> Shown:
    path = str(mart_path("rpt_quarantine"))
    columns = _columns(path)
    if not {"domain", "table_name", "reason"} <= columns:
        return Shown(_run("select * from read_parquet($path) limit 200", {"path": path}), False)
    # The mart may hold one row per quarantined row, or already counted rows per reason.
    rows = "sum(rows_quarantined)" if "rows_quarantined" in columns else "count(*)"
    latest = _local("max(quarantined_at)") if "quarantined_at" in columns else "null::timestamp"
    sql = f"""
        with quarantine as (select * from read_parquet($path)),
        final as (
            select domain, table_name, reason, {rows} as rows,
                {latest} as last_quarantined_at,
            from quarantine
            group by domain, table_name, reason
        )
        select * from final order by rows desc, domain, table_name
    """
    return Shown(_run(sql, {"path": path}), True)


def asset_checks() -> Shown:
    return _asset_checks(_signature((ASSET_CHECKS,)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _asset_checks(signature: tuple) -> Shown:
    path = str(mart_path(ASSET_CHECKS))
    needed = {"asset_key", "check_name", "passed", "severity", "description", "evaluated_at"}
    if not needed <= _columns(path):
        return Shown(_run("select * from read_parquet($path) limit 500", {"path": path}), False)
    sql = f"""
        with checks as (select * from read_parquet($path)),
        final as (
            select asset_key, check_name, passed, severity, description,
                {_local("evaluated_at")} as evaluated_at,
            from checks
        )
        select * from final order by passed, severity, asset_key, check_name
    """
    return Shown(_run(sql, {"path": path}), True)


def marts_dir_label() -> str:
    return os.fspath(settings.marts_dir())


def exception_types() -> pd.DataFrame:
    """The catalogue of sub-types: exception_type, family, priority, sla_hours, owner_team."""
    return _exception_types(_signature(("dim_exception_types",)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _exception_types(signature: tuple) -> pd.DataFrame:
    sql = """
        with types as (select * from read_parquet($types)),
        final as (
            select exception_type, family, priority, sla_hours, owner_team, from types
        )
        select * from final order by family, exception_type
    """
    return _run(sql, {"types": str(mart_path("dim_exception_types"))})


def missing_inputs() -> pd.DataFrame:
    """What each source (profile) does not provide to the rules, per merchant, and the
    sub-types that therefore do not judge its orders."""
    return _missing_inputs(_signature(("rpt_source_coverage",)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _missing_inputs(signature: tuple) -> pd.DataFrame:
    sql = """
        with coverage as (select * from read_parquet($coverage)),
        final as (
            select source_profile, merchant_id, orders, input, evidence, rules_not_assessed,
            from coverage
            where not is_provided
        )
        select * from final order by source_profile, merchant_id, input
    """
    return _run(sql, {"coverage": str(mart_path("rpt_source_coverage"))})


def subtype_overview(filters: Filters, weeks_shown: tuple[str, ...]) -> pd.DataFrame:
    """Per sub-type over the weeks shown: its root cause and the team owning it, its failures
    or special requests, and the share of orders its rule could judge."""
    names = ("fct_order_exceptions", "rpt_exception_coverage", "dim_exception_types")
    return _subtype_overview(filters.as_key(), weeks_shown, _signature(names))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _subtype_overview(key: tuple, weeks_shown: tuple[str, ...], signature: tuple) -> pd.DataFrame:
    filters = Filters(*key)
    sql = f"""
        with types as (
            select exception_type, family, kind, root_cause, root_cause_owner_team,
            from read_parquet($types)
        ),
        flagged as (
            select exception_type, count(*) as exceptions,
            from read_parquet($exceptions)
            where list_contains($weeks::varchar[], week) and {_SLICE}
            group by exception_type
        ),
        covered as (
            select exception_type,
                sum(orders_assessed) / nullif(sum(orders), 0) as assessed_share,
            from read_parquet($coverage)
            where list_contains($weeks::varchar[], week) and {_SLICE}
            group by exception_type
        ),
        final as (
            select
                types.exception_type,
                types.family,
                types.kind,
                types.root_cause,
                types.root_cause_owner_team as owner_team,
                coalesce(flagged.exceptions, 0) as exceptions,
                covered.assessed_share,
            from types
            left join flagged using (exception_type)
            left join covered using (exception_type)
        )
        select * from final order by kind, exceptions desc, exception_type
    """
    paths = _paths("dim_exception_types", "fct_order_exceptions", "rpt_exception_coverage")
    parameters = {
        "types": paths["dim_exception_types"],
        "exceptions": paths["fct_order_exceptions"],
        "coverage": paths["rpt_exception_coverage"],
        "weeks": list(weeks_shown),
        **filters.slice_parameters(),
    }
    return _run(sql, parameters)


# ---------------------------------------------------------------- risk watch

# The risk marts hold one scoring, as of the latest build (features_as_of), not weeks: the
# sidebar's merchant and warehouse apply to them, its week and channel do not.
DELIVERY_RISK = "rpt_delivery_risk"
STOCKOUT_RISK = "rpt_stockout_risk"
RISK_MARTS = (DELIVERY_RISK, STOCKOUT_RISK)
RISK_LIST_LIMIT = 500
# An open order counts as at risk from this late probability on (the page lets a manager
# choose; the merchant files use the same default, pipelines/defs/exports/report_data.py).
LATE_RISK_THRESHOLD = 0.3
LATE_RISK_THRESHOLDS = (0.1, 0.2, 0.3, 0.5, 0.7)
RISK_DIMENSIONS = {"route": "route", "carrier": "carrier", "warehouse": "warehouse_id"}
_RISK_SLICE = """
    ($merchants::varchar[] is null or list_contains($merchants::varchar[], merchant_id))
    and ($warehouses::varchar[] is null or list_contains($warehouses::varchar[], warehouse_id))
"""


@dataclass(frozen=True)
class RiskScope:
    """What the risk page narrows to: the sidebar's merchants and warehouses (empty: all)."""

    merchants: tuple[str, ...] = ()
    warehouses: tuple[str, ...] = ()

    @classmethod
    def of(cls, filters: Filters | None) -> RiskScope:
        return cls() if filters is None else cls(filters.merchants, filters.warehouses)

    def parameters(self) -> dict[str, list[str] | None]:
        return {
            "merchants": list(self.merchants) or None,
            "warehouses": list(self.warehouses) or None,
        }


@dataclass(frozen=True)
class RiskScoring:
    """One risk mart as a whole, before any filter: how many rows it scored (none: not
    enough history yet), with which model, on data known up to when (reporting time zone)."""

    rows: int
    model_version: str | None
    features_as_of: datetime | None


# What the page reads of the replay `oex evaluate` writes (pipelines/risk/evaluation.py).
LATE_RECORD_KEYS = (
    "scored_from",
    "scored_until",
    "model",  # roc_auc, precision_at_top_5pct; the same for "baseline"
    "baseline",
    "late_orders",
    "flagged_before",
    "median_lead_time_hours",
)
STOCKOUT_RECORD_KEYS = (
    "first_as_of",
    "last_as_of",
    "flagged",
    "went_out",
    "true_positives",
    "precision",
    "recall",
    "run_outs",
    "run_outs_flagged_before",
    "median_lead_time_hours",
)


@dataclass(frozen=True)
class TrackRecord:
    """How the risks did when `oex evaluate` last replayed them on the warehouse's last weeks,
    as known at the time (reports/risk.json), and when that was (reporting time zone).
    `problem`: why the report could not be read."""

    measured_at: datetime | None = None
    late_delivery: dict = field(default_factory=dict)
    stock_out: dict = field(default_factory=dict)
    problem: str | None = None


def risk_track_record() -> TrackRecord | None:
    """The last replay's report; None when `oex evaluate` has not written one. A small file
    written once per evaluation, read as it is (no warehouse, no cache needed)."""
    path = settings.reports_dir() / settings.RISK_REPORT
    if not path.exists():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        written = path.stat().st_mtime
    except (OSError, ValueError) as error:
        return TrackRecord(problem=f"{path}: {error}")
    if not isinstance(report, dict):
        return TrackRecord(problem=f"{path}: not a replay report")
    parts = {name: report.get(name) or {} for name in ("late_delivery", "stock_out")}
    if problem := _unreadable_part(parts):
        return TrackRecord(problem=f"{path}: {problem}")
    zone = ZoneInfo(settings.reporting_timezone())
    return TrackRecord(
        measured_at=datetime.fromtimestamp(written, zone).replace(tzinfo=None),
        late_delivery=parts["late_delivery"],
        stock_out=parts["stock_out"],
    )


def _unreadable_part(parts: dict) -> str | None:
    """What a report written by another version, or by hand, lacks for the page: each part is
    a replay's figures or the reason it has none."""
    needed = {"late_delivery": LATE_RECORD_KEYS, "stock_out": STOCKOUT_RECORD_KEYS}
    for name, part in parts.items():
        if not isinstance(part, dict):
            return f"{name} is not a set of figures"
        if "not_enough_history" in part or not part:
            continue
        missing = [key for key in needed[name] if key not in part]
        if missing:
            return f"{name} has no {', '.join(missing)}"
        sides = [part[side] for side in SIDES] if name == "late_delivery" else []
        if any(not isinstance(side, dict) for side in sides):
            return f"{name}: model and baseline are not sets of figures"
        times = [key for key in needed[name] if key in REPLAY_TIMES]
        if bad_times := [key for key in times if not _is_moment(part[key])]:
            return f"{name}: {', '.join(bad_times)} not a time"
        figures = {key: part[key] for key in needed[name] if key not in (*REPLAY_TIMES, *SIDES)}
        for side in sides:
            figures |= {key: side.get(key) for key in ("roc_auc", "precision_at_top_5pct")}
        words = [key for key, value in figures.items() if not _is_figure(value)]
        if words:
            return f"{name}: {', '.join(words)} not a number"
    return None


# The reasons the replay names (pipelines/risk/metrics.NotScoredError), with the time and the
# count each carries, so the page can say them in its own language.
NOT_REPLAYED_REASONS = {"no_late_order": ("before", "days"), "no_stock_count": ("by", None)}


def not_replayed_reason(part: dict) -> tuple[str, dict] | None:
    """The reason a risk was not replayed, as its code and its details, the time written in the
    reporting time zone; None when the report does not name one the page knows (an older
    report, another cause), and the page shows the replay's own sentence."""
    reason = part.get("reason")
    if not isinstance(reason, dict) or reason.get("code") not in NOT_REPLAYED_REASONS:
        return None
    moment_key, count_key = NOT_REPLAYED_REASONS[reason["code"]]
    if not _is_moment(reason.get(moment_key)):
        return None
    if count_key and not (_is_figure(reason.get(count_key)) and reason.get(count_key) is not None):
        return None
    details = {key: value for key, value in reason.items() if key in (moment_key, count_key)}
    details[moment_key] = f"{replay_moment(reason[moment_key]):%Y-%m-%d %H:%M}"
    return reason["code"], details


REPLAY_TIMES = ("scored_from", "scored_until", "first_as_of", "last_as_of")
SIDES = ("model", "baseline")


def _is_moment(value: object) -> bool:
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def _is_figure(value: object) -> bool:
    """A number, or none (a share with nothing to divide by)."""
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def replay_moment(utc_text: str | None) -> datetime | None:
    """A replay's moment (naive UTC text, as risk.json holds it) in the reporting time zone."""
    if not utc_text:
        return None
    moment = datetime.fromisoformat(str(utc_text)).replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(settings.reporting_timezone())).replace(tzinfo=None)


def risk_scoring(mart: str) -> RiskScoring:
    if mart not in RISK_MARTS:
        raise ValueError(f"unknown risk mart {mart!r}")
    return _risk_scoring(mart, _signature((mart,)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _risk_scoring(mart: str, signature: tuple) -> RiskScoring:
    sql = f"""
        select count(*) as rows, max(model_version) as model_version,
            {_local("max(features_as_of)")} as features_as_of,
        from read_parquet($risk)
    """
    row = _run(sql, {"risk": str(mart_path(mart))}).iloc[0]
    as_of = row["features_as_of"]
    return RiskScoring(
        int(row["rows"]),
        None if pd.isna(row["model_version"]) else str(row["model_version"]),
        None if pd.isna(as_of) else pd.Timestamp(as_of).to_pydatetime(),
    )


def delivery_risk_summary(scope: RiskScope, threshold: float) -> pd.Series:
    """The tiles: open_orders, orders_at_risk (late probability >= threshold),
    expected_late_orders (the probabilities added up), baseline_late_orders (the carrier x
    route rates added up) and highest_probability."""
    return _delivery_risk_summary(scope, threshold, _signature((DELIVERY_RISK,)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _delivery_risk_summary(scope: RiskScope, threshold: float, signature: tuple) -> pd.Series:
    sql = f"""
        with open_orders as (
            select * from read_parquet($risk) where {_RISK_SLICE}
        ),
        final as (
            select
                count(*) as open_orders,
                count(*) filter (where late_probability >= $threshold) as orders_at_risk,
                coalesce(sum(late_probability), 0) as expected_late_orders,
                coalesce(sum(baseline_probability), 0) as baseline_late_orders,
                max(late_probability) as highest_probability,
            from open_orders
        )
        select * from final
    """
    parameters = {
        "risk": str(mart_path(DELIVERY_RISK)),
        "threshold": threshold,
        **scope.parameters(),
    }
    return _run(sql, parameters).iloc[0]


def delivery_risk_orders(
    scope: RiskScope, threshold: float, limit: int = RISK_LIST_LIMIT
) -> pd.DataFrame:
    """Open orders with a late probability of at least `threshold`, most expected impact
    first: what is heading for which exception, who acts and what to do."""
    return _delivery_risk_orders(scope, threshold, limit, _signature((DELIVERY_RISK,)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _delivery_risk_orders(
    scope: RiskScope, threshold: float, limit: int, signature: tuple
) -> pd.DataFrame:
    sql = f"""
        with open_orders as (
            select * from read_parquet($risk)
            where late_probability >= $threshold and {_RISK_SLICE}
        ),
        final as (
            select
                order_id,
                merchant_name,
                risk_type,
                late_probability,
                baseline_probability,
                stage,
                route,
                carrier,
                {
        _local("case when stage = 'awaiting_handoff' then ship_by_at else promised_delivery_at end")
    } as due_at,
                {_local("last_scan_at")} as last_scan_at,
                age_hours,
                owner_team,
                suggested_action,
                expected_impact,
            from open_orders
        )
        -- one order each: its expected impact is its probability, not shown twice
        select * exclude (expected_impact) from final
        order by expected_impact desc, late_probability desc, order_id
        limit $limit
    """
    parameters = {
        "risk": str(mart_path(DELIVERY_RISK)),
        "threshold": threshold,
        "limit": limit,
        **scope.parameters(),
    }
    return _run(sql, parameters)


def expected_late_by(scope: RiskScope, dimension: str, top: int = 12) -> pd.DataFrame:
    """Expected late orders (probabilities added up) and open orders per value of a
    dimension (route, carrier or warehouse) and the exception they head for; the `top`
    values with the most expected late orders. A carrier is null until the shipment exists."""
    if dimension not in RISK_DIMENSIONS:
        raise ValueError(f"unknown risk dimension {dimension!r}")
    return _expected_late_by(scope, dimension, top, _signature((DELIVERY_RISK,)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _expected_late_by(scope: RiskScope, dimension: str, top: int, signature: tuple) -> pd.DataFrame:
    column = RISK_DIMENSIONS[dimension]
    sql = f"""
        with open_orders as (
            select {column} as dimension_value, risk_type, late_probability,
            from read_parquet($risk) where {_RISK_SLICE}
        ),
        cells as (
            select dimension_value, risk_type, count(*) as open_orders,
                sum(late_probability) as expected_late_orders,
            from open_orders
            group by all
        ),
        biggest as (
            select dimension_value, sum(expected_late_orders) as total,
            from cells
            group by dimension_value
            order by total desc, dimension_value nulls last
            limit $top
        ),
        final as (
            select cells.*, biggest.total,
            from cells
            inner join biggest on cells.dimension_value is not distinct from biggest.dimension_value
        )
        select dimension_value, risk_type, open_orders, expected_late_orders,
        from final
        order by total desc, dimension_value nulls last, risk_type
    """
    parameters = {"risk": str(mart_path(DELIVERY_RISK)), "top": top, **scope.parameters()}
    return _run(sql, parameters)


def stockout_risk_summary(scope: RiskScope) -> pd.Series:
    """The tiles: skus (SKU x warehouse rows scored), skus_at_risk and orders_hit (of the
    SKUs at risk, the orders expected to find no stock before replenishment can arrive)."""
    return _stockout_risk_summary(scope, _signature((STOCKOUT_RISK,)))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _stockout_risk_summary(scope: RiskScope, signature: tuple) -> pd.Series:
    sql = f"""
        with stock as (
            select * from read_parquet($risk) where {_RISK_SLICE}
        ),
        final as (
            select
                count(*) as skus,
                count(*) filter (where is_at_risk) as skus_at_risk,
                coalesce(sum(expected_impact) filter (where is_at_risk), 0) as orders_hit,
            from stock
        )
        select * from final
    """
    return _run(sql, {"risk": str(mart_path(STOCKOUT_RISK)), **scope.parameters()}).iloc[0]


def stockout_risk_skus(scope: RiskScope, limit: int = RISK_LIST_LIMIT) -> pd.DataFrame:
    """SKUs (per warehouse) whose cover ends before replenishment can arrive, most expected
    impact first, with the orders they would hit, who acts and what to do."""
    return _stockout_risk_skus(scope, limit, _signature((STOCKOUT_RISK,)))


# The stock-out mart may name its action once (English, as the delivery mart does) or in
# both languages; either is the catalogue's text, which the page shows in its own language.
_STOCKOUT_ACTIONS = ("suggested_action", "suggested_action_en", "suggested_action_zh")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _stockout_risk_skus(scope: RiskScope, limit: int, signature: tuple) -> pd.DataFrame:
    path = str(mart_path(STOCKOUT_RISK))
    columns = _columns(path)
    action = next((name for name in _STOCKOUT_ACTIONS if name in columns), "null")
    # marts scored before the probability (model v2) have none: shown empty, not an error
    probability = "stockout_probability" if "stockout_probability" in columns else "null"
    sql = f"""
        with stock as (
            select * from read_parquet($risk) where is_at_risk and {_RISK_SLICE}
        ),
        final as (
            select
                sku,
                warehouse_id,
                merchant_name,
                'out_of_stock' as risk_type,
                available,
                forecast_daily_demand,
                days_of_cover,
                lead_time_days,
                expected_stockout_date,
                {probability} as stockout_probability,
                open_orders,
                expected_orders,
                expected_impact,
                owner_team,
                {action} as suggested_action,
            from stock
        )
        select * from final
        order by expected_impact desc, days_of_cover, sku, warehouse_id
        limit $limit
    """
    parameters = {"risk": path, "limit": limit, **scope.parameters()}
    return _run(sql, parameters)
