"""Risk assets: the late-delivery model (trained on a schedule, served only when it beats its
baseline), the two risk marts every daily build scores into the warehouse, which the marts
export then publishes with the others, and the weekly replay of both (their track record).

They read the tables dbt built and write marts.rpt_delivery_risk / marts.rpt_stockout_risk,
so they take the warehouse pool like every other writer.
"""

from contextlib import contextmanager
from datetime import datetime

import dagster as dg
import duckdb
import pandas as pd
from dagster_dbt import get_asset_key_for_model

from pipelines import settings
from pipelines.defs.partitions import WAREHOUSE_POOL
from pipelines.defs.transformation.assets import order_exceptions_dbt
from pipelines.risk import delivery, model_store

GROUP = "risk"
DELIVERY_MODEL = "delivery_risk"
TRACK_RECORD = "risk_track_record"
MART_SCHEMA = "marts"
# What the risk reads: the facts with the late verdicts, the orders as known, the scans.
DELIVERY_INPUTS = [
    "fct_order_exceptions",
    "int_orders__context",
    "int_shipments__tracking_summary",
    "stg_logistics__tracking_events",
]
# Stock: the snapshots, the demand in order lines, the stock-outs that followed, lead times.
STOCK_INPUTS = [
    "stg_stock__stock_snapshots",
    "stg_orders__order_lines",
    "int_orders__context",
    "fct_order_exceptions",
]


def _keys(models: list[str]) -> list[dg.AssetKey]:
    return [get_asset_key_for_model([order_exceptions_dbt], name) for name in models]


@contextmanager
def warehouse(read_only: bool):
    connection = duckdb.connect(
        str(settings.warehouse_path()), read_only=read_only, config=settings.duckdb_config()
    )
    connection.execute("set enable_progress_bar = false")  # a session option, not a global one
    try:
        yield connection
    finally:
        connection.close()


def run_as_of(connection: duckdb.DuckDBPyConnection) -> datetime:
    """The moment the build's data reaches (UTC): risk is scored as of then."""
    (as_of,) = connection.execute("select as_of from intermediate.int_run_as_of").fetchone()
    return as_of


def write_mart(name: str, frame: pd.DataFrame, columns: dict[str, str]) -> int:
    """Replace marts.<name> with frame, typed by `columns` (so an empty frame makes a table the
    dashboard can still read), in one transaction."""
    definition = ", ".join(f'"{column}" {kind}' for column, kind in columns.items())
    selected = ", ".join(f'cast("{column}" as {kind})' for column, kind in columns.items())
    with warehouse(read_only=False) as connection:
        connection.begin()
        connection.execute(f"create or replace table {MART_SCHEMA}.{name} ({definition})")
        if len(frame):
            connection.register("risk_rows", frame[list(columns)])
            connection.execute(f"insert into {MART_SCHEMA}.{name} select {selected} from risk_rows")
        connection.commit()
    return len(frame)


def _card(model: delivery.DeliveryRiskModel) -> dict:
    return {
        "trained_as_of": model.trained_as_of,
        "training_rows": model.training_rows,
        "validation": model.validation,
        "beats_baseline": model.beats_baseline,
    }


def train_and_maybe_serve() -> tuple[delivery.DeliveryRiskModel, bool]:
    """Train as of the build's data; serve the new model only if it beats the baseline."""
    with warehouse(read_only=True) as connection:
        model = delivery.train(connection, run_as_of(connection))
    model_store.save(DELIVERY_MODEL, model.version, model, _card(model))
    if model.beats_baseline:
        model_store.serve(DELIVERY_MODEL, model.version)
    return model, model.beats_baseline


def _validation_metadata(model: delivery.DeliveryRiskModel) -> dict:
    validation = model.validation
    return {
        "model_version": model.version,
        "training_rows": model.training_rows,
        "model_roc_auc": validation["model"]["roc_auc"],
        "baseline_roc_auc": validation["baseline"]["roc_auc"],
        "model_calibration_error": validation["model"]["calibration_error"],
        "validation": dg.MetadataValue.json(validation),
        "serving": model_store.serving_version(DELIVERY_MODEL) or "none",
    }


@dg.asset(
    deps=_keys(DELIVERY_INPUTS),
    pool=WAREHOUSE_POOL,
    group_name=GROUP,
    kinds={"scikit-learn"},
    check_specs=[dg.AssetCheckSpec("beats_baseline", asset=DELIVERY_MODEL)],
    name=DELIVERY_MODEL,
)
def delivery_risk_model(context: dg.AssetExecutionContext):
    """The late-delivery model, retrained each week on the open orders of the four weeks whose
    verdicts are in, compared on the last of them with the carrier x route late rate. A model
    that does not beat that baseline fails the check and the model serving before stays."""
    model, served = train_and_maybe_serve()
    metadata = _validation_metadata(model)
    yield dg.MaterializeResult(metadata=metadata)
    yield dg.AssetCheckResult(
        check_name="beats_baseline",
        passed=served,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            "Served: the model ranks late orders better than the carrier x route rate."
            if served
            else "Not served: the model did not beat the carrier x route rate on the held-out "
            "week; the previous model keeps scoring."
        ),
        metadata={key: metadata[key] for key in ("model_roc_auc", "baseline_roc_auc", "serving")},
    )


def serving_model(context: dg.AssetExecutionContext) -> delivery.DeliveryRiskModel | None:
    """The model serving, or on a first build one trained now; None without enough history."""
    model = model_store.load_serving(DELIVERY_MODEL)
    if model is not None:
        return model
    try:
        model, served = train_and_maybe_serve()
    except ValueError as error:  # not enough history yet: said, not a failed build
        context.log.warning(str(error))
        return None
    if not served:
        context.log.warning(f"first model {model.version} does not beat its baseline: not served")
        return None
    return model


def not_scored_here() -> str | None:
    """Why the risk is not scored by this build, if it is not: it reads the tables dbt built
    in the DuckDB warehouse, which a build on Spark does not fill."""
    if settings.is_spark():
        return (
            "not scored: the risk reads the DuckDB warehouse, and this build ran on Spark "
            "(README, Scaling out)"
        )
    return None


def _skipped(context: dg.AssetExecutionContext, reason: str) -> dg.MaterializeResult:
    context.log.warning(reason)
    return dg.MaterializeResult(metadata={"not_scored": reason})


@dg.asset(deps=_keys(DELIVERY_INPUTS), pool=WAREHOUSE_POOL, group_name=GROUP, kinds={"duckdb"})
def rpt_delivery_risk(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Every open order as of the build with its chance of ending late (hand-off or delivery),
    the baseline's, the exception it is heading for and the team that acts."""
    if reason := not_scored_here():
        return _skipped(context, reason)
    model = serving_model(context)
    with warehouse(read_only=True) as connection:
        as_of = run_as_of(connection)
        table = (
            delivery.risk_table(connection, model, as_of)
            if model is not None
            else pd.DataFrame(columns=list(delivery.MART_COLUMNS))
        )
    rows = write_mart("rpt_delivery_risk", table, delivery.MART_COLUMNS)
    return dg.MaterializeResult(
        metadata={
            "open_orders": rows,
            "model_version": model.version if model is not None else "none (not enough history)",
            "features_as_of": as_of.isoformat(sep=" "),
            "expected_late_orders": float(table.late_probability.sum()) if rows else 0.0,
        }
    )


@dg.asset(deps=_keys(STOCK_INPUTS), pool=WAREHOUSE_POOL, group_name=GROUP, kinds={"duckdb"})
def rpt_stockout_risk(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Every SKU and warehouse as of the build: forecast demand, days of cover, the next
    replenishment, the probability of a stock-out before it is in, and the orders a
    stock-out would hit."""
    if reason := not_scored_here():
        return _skipped(context, reason)
    from pipelines.risk import stockout

    with warehouse(read_only=True) as connection:
        as_of = run_as_of(connection)
        table = stockout.stockout_risk(connection, as_of)
    rows = write_mart("rpt_stockout_risk", table, stockout.MART_COLUMNS)
    at_risk = int(table.is_at_risk.sum()) if rows else 0
    return dg.MaterializeResult(
        metadata={
            "sku_warehouses": rows,
            "at_risk": at_risk,
            "model_version": stockout.MODEL_VERSION,
            "features_as_of": str(as_of),
            # the probabilities added up: SKU-warehouses expected to run out within 7 days
            "expected_stockouts": float(table.stockout_probability.sum()) if rows else 0.0,
        }
    )


@dg.asset(
    deps=_keys(sorted(set(DELIVERY_INPUTS) | set(STOCK_INPUTS))),
    pool=WAREHOUSE_POOL,  # it only reads, but a reader holds off another process's writer
    group_name=GROUP,
    kinds={"json"},
    name=TRACK_RECORD,
)
def risk_track_record(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Both risks replayed on the last weeks whose outcome is in, each moment scored with only
    what was known then and checked against the exceptions that followed: what `oex evaluate`
    writes to reports/risk.json, and the Risk watch page shows beside the scores. Weekly,
    with the retraining: the replay trains a model per week replayed, too slow for every
    daily build."""
    if reason := not_scored_here():
        return _skipped(context, reason)
    from pipelines.risk.evaluation import evaluate_risk

    report = evaluate_risk()
    return dg.MaterializeResult(metadata=_track_record_metadata(report))


def _track_record_metadata(report: dict) -> dict:
    """The figures a data engineer looks for in the run, each part's reason when it has none."""
    late, stock = report["late_delivery"], report["stock_out"]
    report_path = settings.reports_dir() / settings.RISK_REPORT
    metadata: dict = {"report": dg.MetadataValue.path(str(report_path))}
    if "not_enough_history" in late:
        metadata["late_delivery"] = late["not_enough_history"]
    else:
        metadata |= {
            "late_model_roc_auc": late["model"]["roc_auc"],
            "late_baseline_roc_auc": late["baseline"]["roc_auc"],
            "late_model_precision_at_top_5pct": late["model"]["precision_at_top_5pct"],
            "late_median_lead_time_hours": late["median_lead_time_hours"],
        }
    if "not_enough_history" in stock:
        metadata["stock_out"] = stock["not_enough_history"]
    else:
        metadata |= {
            "stockout_precision": stock["precision"],
            "stockout_recall": stock["recall"],
            "stockout_median_lead_time_hours": stock["median_lead_time_hours"],
        }
    return metadata
