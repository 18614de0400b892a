"""Late-delivery risk: the chance that an open order ends `late_handoff` or `delivery_overdue`.

An order is open from payment until its parcel's last scan (delivered, rejected, returned,
lost) or its cancellation; one already flagged late is on the exception list, not at risk.
Everything about an order is taken as it was known at the moment scored (the "as of"): a
carrier only once the shipment is created, scans up to that moment, the volume of the days
before. So the same as-of scores the same orders the same way whatever was loaded later.

The model learns from the open orders of past days and how each ended (a gradient-boosted
classifier from scikit-learn, seeded). Beside it, the baseline a planner would use without
it: the carrier x route (warehouse -> province) historical late rate. The model serves only
while it beats the baseline on the last week it has not trained on.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from pipelines import catalogue, settings
from pipelines.risk import metrics

LATE_TYPES = ("late_handoff", "delivery_overdue")
# An order paid this long before a moment has its late verdict by then: hand-off within two
# days, the longest promise (remote provinces) eight more, and margin.
VERDICT_DELAY = timedelta(days=12)
TRAINING_DAYS = 28  # past days whose open orders the model learns from
VALIDATION_DAYS = 7  # the last of them, held out to compare model and baseline
MAX_TRAINING_ROWS = 400_000  # a sample, by order hash, keeps training time flat at 10M orders
SMOOTHING_ORDERS = 200  # a route's rate leans on its carrier's as if it had 200 orders more
SEED = 20261203
# An order is seen at every moment it is open (a dozen rows or more): leaves of at least 800
# rows and few, small trees keep the model from memorising single orders, which made it
# confident on the orders it trained on and too low on new ones (measured: the probabilities
# added up to 43% of the late orders that came; with these, 94%).
MODEL_PARAMETERS = {
    "learning_rate": 0.06,
    "max_iter": 100,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 800,
    "l2_regularization": 1.0,
    "early_stopping": False,
}
CATEGORIES = [
    "stage",
    "last_scan",
    "carrier",
    "warehouse_id",
    "province",
    "channel",
    "route_kind",
]
NUMBERS = [
    "is_expedited",
    "placed_weekday",
    "hours_since_paid",
    "hours_to_ship_by",
    "hours_since_shipment_created",
    "promised_days",
    "hours_to_promise",
    "hours_since_handoff",
    "scans",
    "hours_since_last_scan",
    "placed_volume_ratio",
    "recent_volume_ratio",
]
UNASSIGNED = "unassigned"  # no shipment yet: the carrier is not known at that moment

# The open orders at each moment, with what was known then; $keep (of a million) samples the
# orders by a hash of their id, which the database applies before joining the moments.
OPEN_ORDERS_AT = """
with

points as (
    select unnest($points::timestamp[]) as as_of
),

late as (
    select order_id, min(detected_at) as late_at, arg_min(exception_type, detected_at) as late_type
    from marts.fct_order_exceptions
    where exception_type in ('late_handoff', 'delivery_overdue')
    group by order_id
),

open_orders as (
    select
        points.as_of,
        orders.order_id,
        orders.merchant_id,
        orders.merchant_name,
        orders.warehouse_id,
        orders.channel,
        orders.province,
        list_contains(string_split(orders.remote_provinces, ';'), orders.province) as is_remote,
        coalesce(orders.is_expedited, false) as is_expedited,
        orders.placed_at,
        orders.paid_at,
        orders.shipment_created_at <= points.as_of as shipment_known,
        orders.carrier,
        orders.tracking_number,
        orders.ship_by_at,
        orders.promised_delivery_at,
        orders.shipment_created_at,
        tracking.first_handed_to_carrier_at <= points.as_of as is_handed,
        tracking.first_handed_to_carrier_at,
        late.late_at,
        late.late_type
    from points
    inner join intermediate.int_orders__context as orders
        on orders.paid_at <= points.as_of
        and orders.placed_at > points.as_of - interval 30 day
    left join intermediate.int_shipments__tracking_summary as tracking
        on orders.shipment_id = tracking.shipment_id
    left join late on orders.order_id = late.order_id
    where
        (orders.first_cancelled_at is null or orders.first_cancelled_at > points.as_of)
        and (tracking.first_terminal_at is null or tracking.first_terminal_at > points.as_of)
        and (late.late_at is null or late.late_at > points.as_of)
        and hash(orders.order_id) % 1000000 < $keep
),
"""

OPEN_ORDERS = (
    OPEN_ORDERS_AT
    + """
scans as (
    select
        open_orders.as_of,
        open_orders.order_id,
        count(*) as scans,
        max(events.event_at) as last_scan_at,
        arg_max(events.event_type, events.event_at) as last_scan
    from open_orders
    inner join staging.stg_logistics__tracking_events as events
        on open_orders.tracking_number = events.tracking_number
        and events.event_at <= open_orders.as_of
    group by all
)

select
    open_orders.*,
    coalesce(scans.scans, 0) as scans,
    scans.last_scan_at,
    coalesce(scans.last_scan, 'none') as last_scan
from open_orders
left join scans using (as_of, order_id)
"""
)
COUNT_OPEN_ORDERS = OPEN_ORDERS_AT.rstrip().rstrip(",") + "\nselect count(*) from open_orders"
SAMPLE_SCALE = 1_000_000
BATCH_VECTORS = 100  # rows fetched at a time in the replay, in DuckDB's vectors of 2,048


def _hours(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.total_seconds() / 3600


def _volume(connection: duckdb.DuckDBPyConnection) -> pd.Series:
    """Orders placed per hour, every hour from the first to the last, cumulated."""
    hourly = connection.execute(
        "select date_trunc('hour', placed_at) as hour, count(*) as orders"
        " from intermediate.int_orders__context group by 1 order by 1"
    ).df()
    if hourly.empty:
        return pd.Series(dtype=float)
    index = pd.date_range(hourly.hour.min(), hourly.hour.max(), freq="h")
    return hourly.set_index("hour").orders.reindex(index, fill_value=0).cumsum()


def _volume_ratio(cumulative: pd.Series, moments: pd.Series, window_hours: int) -> np.ndarray:
    """Orders placed in the window_hours before each moment, against the same window's mean
    over the 28 days before: above 1 in a promotion peak, known at that moment."""
    if cumulative.empty:
        return np.ones(len(moments))
    hours = cumulative.index.values
    values = np.concatenate([[0], cumulative.values])

    def placed_until(times: np.ndarray) -> np.ndarray:
        return values[np.searchsorted(hours, times, side="right")]

    times = moments.dt.floor("h").values
    recent = placed_until(times) - placed_until(times - np.timedelta64(window_hours, "h"))
    month = placed_until(times) - placed_until(times - np.timedelta64(28 * 24, "h"))
    return recent / np.maximum(month * window_hours / (28 * 24), 1.0)


def open_orders(
    connection: duckdb.DuckDBPyConnection, points: list[datetime], limit: int | None = None
) -> pd.DataFrame:
    """The open orders at each moment (UTC), with what was known about them then; with a
    limit, about that many rows at most, of orders sampled in the database by a hash of their
    id (the same rows for the same data), so a history of 10M orders never reaches pandas
    whole."""
    keep = SAMPLE_SCALE
    if limit is not None:
        # the rows of 1% of the orders tell how many there are in all
        probe = {"points": list(points), "keep": SAMPLE_SCALE // 100}
        (probed,) = connection.execute(COUNT_OPEN_ORDERS, probe).fetchone()
        if probed * 100 > limit:
            # a little over the limit, so _sample trims to it exactly
            keep = math.ceil(SAMPLE_SCALE * 1.1 * limit / (probed * 100))
    frame = connection.execute(OPEN_ORDERS, {"points": list(points), "keep": keep}).df()
    return add_features(frame, _volume(connection))


def open_order_batches(
    connection: duckdb.DuckDBPyConnection, points: list[datetime]
) -> Iterator[pd.DataFrame]:
    """The open orders at each moment, with their features, a batch of rows at a time: a week
    of moments at 10M orders holds millions of order-moments, too many for pandas at once."""
    volume = _volume(connection)  # first: a query on the connection ends the one fetched below
    result = connection.execute(OPEN_ORDERS, {"points": list(points), "keep": SAMPLE_SCALE})
    while not (batch := result.fetch_df_chunk(BATCH_VECTORS)).empty:
        yield add_features(batch, volume)


def add_features(frame: pd.DataFrame, cumulative_volume: pd.Series) -> pd.DataFrame:
    known = frame.shipment_known.fillna(False).astype(bool)
    handed = frame.is_handed.fillna(False).astype(bool)
    local_placed = frame.placed_at.dt.tz_localize("UTC").dt.tz_convert(
        settings.reporting_timezone()
    )
    features = pd.DataFrame(
        {
            "stage": np.where(handed, "in_transit", "awaiting_handoff"),
            "carrier": frame.carrier.where(known, UNASSIGNED).fillna(UNASSIGNED),
            "warehouse_id": frame.warehouse_id.fillna(""),
            "province": frame.province.fillna(""),
            "channel": frame.channel.fillna(""),
            "route_kind": np.where(frame.is_remote.fillna(False), "remote", "domestic"),
            "is_expedited": frame.is_expedited.astype(float),
            "placed_weekday": local_placed.dt.weekday.astype(float),
            "hours_since_paid": _hours(frame.as_of, frame.paid_at),
            "hours_to_ship_by": _hours(frame.ship_by_at, frame.as_of).where(known),
            "hours_since_shipment_created": _hours(frame.as_of, frame.shipment_created_at).where(
                known
            ),
            "promised_days": (
                _hours(frame.promised_delivery_at, frame.shipment_created_at) / 24
            ).where(known),
            "hours_to_promise": _hours(frame.promised_delivery_at, frame.as_of).where(known),
            "hours_since_handoff": _hours(frame.as_of, frame.first_handed_to_carrier_at).where(
                handed
            ),
            "scans": frame.scans.astype(float),
            "hours_since_last_scan": _hours(frame.as_of, frame.last_scan_at),
            "placed_volume_ratio": _volume_ratio(cumulative_volume, frame.placed_at, 24),
            "recent_volume_ratio": _volume_ratio(cumulative_volume, frame.as_of, 72),
        },
        index=frame.index,
    )
    # the carrier as known at the moment replaces the one the shipment got later
    return pd.concat([frame.drop(columns=features.columns, errors="ignore"), features], axis=1)


def went_late(frame: pd.DataFrame, known_until: datetime | pd.Timestamp) -> np.ndarray:
    """1 where the order was flagged late after its moment and by known_until."""
    return ((frame.late_at > frame.as_of) & (frame.late_at <= known_until)).to_numpy(dtype=int)


MOMENTS_PER_DAY = 4  # open orders are looked at every six hours, as runs through a day do


def moments(last: datetime, days: int) -> list[datetime]:
    """MOMENTS_PER_DAY moments a day over `days` days, ending at `last`."""
    step = timedelta(days=1) / MOMENTS_PER_DAY
    return [last - step * offset for offset in range(days * MOMENTS_PER_DAY - 1, -1, -1)]


def _sample(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    """At most `limit` rows, the same ones for the same data: by a hash of order and moment."""
    if len(frame) <= limit:
        return frame
    key = pd.util.hash_pandas_object(frame[["order_id", "as_of"]], index=False)
    return frame.loc[key.sort_values(kind="stable").index[:limit]]


@dataclass
class Baseline:
    """The carrier x route late rate of the past, per order: what a planner's table says.

    A route (carrier, warehouse -> province) sees few orders in four weeks, so its rate leans
    on its carrier's rate (empirical Bayes, SMOOTHING_ORDERS orders' worth); an order without
    a carrier yet takes its warehouse -> province lane's rate."""

    by_route: dict[tuple[str, str, str], float] = field(default_factory=dict)
    by_carrier: dict[str, float] = field(default_factory=dict)
    by_lane: dict[tuple[str, str], float] = field(default_factory=dict)
    overall: float = 0.0

    @classmethod
    def learn(cls, frame: pd.DataFrame, outcome: np.ndarray) -> Baseline:
        orders = (
            frame.assign(late=outcome)
            .sort_values("as_of")
            .groupby("order_id", sort=False)
            .agg(
                carrier=("carrier", "last"),
                warehouse_id=("warehouse_id", "first"),
                province=("province", "first"),
                late=("late", "max"),
            )
        )
        overall = float(orders.late.mean()) if len(orders) else 0.0
        carried = orders[orders.carrier != UNASSIGNED]
        by_carrier = _shrunk(carried, ["carrier"], lambda _: overall)
        by_route = _shrunk(
            carried, ["carrier", "warehouse_id", "province"], lambda key: by_carrier[key[:1]]
        )
        by_lane = _shrunk(orders, ["warehouse_id", "province"], lambda _: overall)
        return cls(by_route, {key[0]: rate for key, rate in by_carrier.items()}, by_lane, overall)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.array(
            [
                self.by_route.get(
                    (carrier, warehouse, province),
                    self.by_carrier.get(carrier)
                    or self.by_lane.get((warehouse, province), self.overall),
                )
                for carrier, warehouse, province in zip(
                    frame.carrier, frame.warehouse_id, frame.province, strict=True
                )
            ],
            dtype=float,
        )


def _shrunk(orders: pd.DataFrame, keys: list[str], prior) -> dict[tuple, float]:
    """Late rate per group, pulled towards prior(group key) by SMOOTHING_ORDERS orders."""
    grouped = orders.groupby(keys).late.agg(["sum", "count"])
    rates = {}
    for key, row in grouped.iterrows():
        key = key if isinstance(key, tuple) else (key,)
        rates[key] = (row["sum"] + SMOOTHING_ORDERS * prior(key)) / (
            row["count"] + SMOOTHING_ORDERS
        )
    return rates


def _classifier() -> Pipeline:
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
    )
    columns = ColumnTransformer(
        [("categories", encoder, CATEGORIES), ("numbers", "passthrough", NUMBERS)],
        verbose_feature_names_out=False,
    )
    model = HistGradientBoostingClassifier(
        **MODEL_PARAMETERS,
        categorical_features=list(range(len(CATEGORIES))),
        random_state=SEED,
    )
    return Pipeline([("columns", columns), ("model", model)])


@dataclass
class DeliveryRiskModel:
    """A trained model, its baseline, and how both did on the week held out."""

    classifier: Pipeline
    baseline: Baseline
    trained_as_of: datetime
    validation: dict
    training_rows: int
    version: str

    @property
    def beats_baseline(self) -> bool:
        model_auc = self.validation["model"]["roc_auc"]
        baseline_auc = self.validation["baseline"]["roc_auc"]
        return model_auc is not None and (baseline_auc is None or model_auc > baseline_auc)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.classifier.predict_proba(frame[CATEGORIES + NUMBERS])[:, 1]


def training_set(
    connection: duckdb.DuckDBPyConnection, as_of: datetime
) -> tuple[pd.DataFrame, np.ndarray]:
    """The open orders of the TRAINING_DAYS days whose verdicts are all in by as_of, each with
    whether it went late; nothing known only after as_of is used."""
    last = as_of - VERDICT_DELAY
    points = moments(last, TRAINING_DAYS)
    frame = _sample(open_orders(connection, points, MAX_TRAINING_ROWS), MAX_TRAINING_ROWS)
    frame = frame.sort_values(["as_of", "order_id"], kind="stable").reset_index(drop=True)
    return frame, went_late(frame, as_of)


def train(connection: duckdb.DuckDBPyConnection, as_of: datetime) -> DeliveryRiskModel:
    """Fit on the first weeks, compare with the baseline on the last one, refit on all."""
    frame, outcome = training_set(connection, as_of)
    if len(frame) == 0 or outcome.sum() == 0:
        days = TRAINING_DAYS + VERDICT_DELAY.days
        raise metrics.NotScoredError(
            "no_late_order",
            f"no late order to learn from before {as_of:%Y-%m-%d %H:%M} UTC: the late-delivery "
            f"model needs about {days} days of history",
            before=as_of.isoformat(sep=" "),
            days=days,
        )
    held_out = (frame.as_of > as_of - VERDICT_DELAY - timedelta(days=VALIDATION_DAYS)).to_numpy()
    validation: dict = {"rows": int(held_out.sum()), "late": int(outcome[held_out].sum())}
    if held_out.any() and (~held_out).any() and outcome[~held_out].any():
        first = _classifier().fit(frame[~held_out], outcome[~held_out])
        baseline = Baseline.learn(frame[~held_out], outcome[~held_out])
        validation["model"] = metrics.scores(
            outcome[held_out], first.predict_proba(frame[held_out])[:, 1]
        )
        validation["baseline"] = metrics.scores(
            outcome[held_out], baseline.predict(frame[held_out])
        )
    else:
        validation["model"] = validation["baseline"] = metrics.scores(np.array([]), np.array([]))
    classifier = _classifier().fit(frame, outcome)
    return DeliveryRiskModel(
        classifier, Baseline.learn(frame, outcome), as_of, validation, len(frame), _version(as_of)
    )


def _version(as_of: datetime) -> str:
    """hgb-<as of>-<digest of the method>: the same data and method give the same name."""
    method = json.dumps([MODEL_PARAMETERS, CATEGORIES, NUMBERS, TRAINING_DAYS, SEED])
    return f"hgb-{as_of:%Y%m%dT%H%M}-{hashlib.sha1(method.encode()).hexdigest()[:8]}"


def _route(frame: pd.DataFrame) -> pd.Series:
    return frame.warehouse_id.fillna("?") + " → " + frame.province.fillna("?")


def risk_table(
    connection: duckdb.DuckDBPyConnection, model: DeliveryRiskModel, as_of: datetime
) -> pd.DataFrame:
    """rpt_delivery_risk: every open order at as_of with its late probability, the baseline's,
    the exception it is heading for and who acts, most likely first."""
    frame = open_orders(connection, [as_of])
    probability = model.predict(frame) if len(frame) else np.array([])
    heading_for = np.where(frame.stage == "in_transit", "delivery_overdue", "late_handoff")
    known = frame.shipment_known.fillna(False).astype(bool)  # shipment details only once known
    types = catalogue.exception_types()
    table = pd.DataFrame(
        {
            "order_id": frame.order_id,
            "merchant_id": frame.merchant_id,
            "merchant_name": frame.merchant_name,
            "warehouse_id": frame.warehouse_id,
            "carrier": frame.carrier.where(known),
            "province": frame.province,
            "route": _route(frame),
            "stage": frame.stage,
            "placed_at": frame.placed_at,
            "paid_at": frame.paid_at,
            "ship_by_at": frame.ship_by_at.where(known),
            "promised_delivery_at": frame.promised_delivery_at.where(known),
            "last_scan_at": frame.last_scan_at,
            "age_hours": frame.hours_since_paid,
            "late_probability": probability,
            "baseline_probability": model.baseline.predict(frame) if len(frame) else [],
            "risk_type": heading_for,
            "owner_team": [types[code].owner_team for code in heading_for],
            "suggested_action": [types[code].guidelines["en"] for code in heading_for],
            "expected_impact": probability,  # orders x probability: one order each here
            "model_version": model.version,
            "features_as_of": pd.Timestamp(as_of),
        }
    )
    return table.sort_values(
        ["late_probability", "order_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def first_flags(frame: pd.DataFrame, probability: np.ndarray, share: float = 0.05) -> pd.Series:
    """Per order, the first moment it was in the top `share` of that moment's open orders:
    when the list a team works from would first have named it."""
    ranked = frame.assign(probability=probability)
    ranked["rank"] = ranked.groupby("as_of").probability.rank(
        ascending=False, pct=True, method="first"
    )
    return ranked[ranked["rank"] <= share].groupby("order_id").as_of.min()


def lead_time_hours(frame: pd.DataFrame, probability: np.ndarray, known_until) -> dict:
    """Hours from an order's first flag to its late exception, for the late orders scored."""
    late = frame[went_late(frame, known_until) == 1].groupby("order_id").late_at.first()
    flagged = first_flags(frame, probability).reindex(late.index)
    hours = ((late - flagged).dt.total_seconds() / 3600).dropna()
    return {
        "late_orders": len(late),
        "flagged_before": len(hours),
        "median_lead_time_hours": float(hours.median()) if len(hours) else None,
    }


def backtest(connection: duckdb.DuckDBPyConnection, weeks: int = 2) -> dict:
    """Score the last `weeks` weeks whose verdicts are in as they were known at the time: a
    model trained at the start of each week (on what was known then) scores that week's open
    orders every six hours; the outcomes come from everything loaded since."""
    (end,) = connection.execute("select as_of from intermediate.int_run_as_of").fetchone()
    first_week = end - VERDICT_DELAY - timedelta(weeks=weeks)
    scored, versions = [], []
    for week in range(weeks):
        start = first_week + timedelta(weeks=week)
        model = train(connection, start)
        points = moments(start + timedelta(days=7) - _step(), 7)
        scored += [_scored(batch, model) for batch in open_order_batches(connection, points)]
        versions.append(model.version)
    # in one order whatever order the database returned the rows in: ties at the top 5% and
    # the sums' last digits then come out the same on every replay of the same data
    frame = pd.concat(scored, ignore_index=True)
    frame = frame.sort_values(["as_of", "order_id"], kind="stable", ignore_index=True)
    outcome = went_late(frame, end)
    model_score = frame.model_score.to_numpy()
    return {
        "scored_from": first_week.isoformat(sep=" "),
        "scored_until": (first_week + timedelta(weeks=weeks)).isoformat(sep=" "),
        "models": versions,
        "moments": int(frame.as_of.nunique()),
        "open_order_moments": len(frame),
        "late_share": float(outcome.mean()) if len(outcome) else None,
        # calibration in the large: the late orders the probabilities add up to, and the real
        "expected_late": float(model_score.sum()),
        "actual_late": int(outcome.sum()),
        "model": metrics.scores(outcome, model_score),
        "baseline": metrics.scores(outcome, frame.baseline_score.to_numpy()),
        **lead_time_hours(frame, model_score, end),
    }


def _scored(batch: pd.DataFrame, model: DeliveryRiskModel) -> pd.DataFrame:
    """What the replay's measures need of a batch of open order-moments, and their scores."""
    return pd.DataFrame(
        {
            "order_id": batch.order_id.astype("string[pyarrow]"),  # a fraction of object's size
            "as_of": batch.as_of,
            "late_at": batch.late_at,
            "model_score": model.predict(batch),
            "baseline_score": model.baseline.predict(batch),
        }
    )


def _step() -> timedelta:
    return timedelta(days=1) / MOMENTS_PER_DAY


# rpt_delivery_risk, column by column: the table is created from this even when it is empty
MART_COLUMNS = {
    "order_id": "varchar",
    "merchant_id": "varchar",
    "merchant_name": "varchar",
    "warehouse_id": "varchar",
    "carrier": "varchar",
    "province": "varchar",
    "route": "varchar",
    "stage": "varchar",
    "placed_at": "timestamp",
    "paid_at": "timestamp",
    "ship_by_at": "timestamp",
    "promised_delivery_at": "timestamp",
    "last_scan_at": "timestamp",
    "age_hours": "double",
    "late_probability": "double",
    "baseline_probability": "double",
    "risk_type": "varchar",
    "owner_team": "varchar",
    "suggested_action": "varchar",
    "expected_impact": "double",
    "model_version": "varchar",
    "features_as_of": "timestamp",
}
