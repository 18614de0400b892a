"""Risk watch: the open orders most likely to end late and the SKUs that run out before
replenishment can arrive, most expected impact first, with who acts and what to do."""

import streamlit as st

from dashboards import data, ui
from dashboards.components import charts
from dashboards.components.formatting import MISSING, format_count, format_percent
from pipelines import settings

THRESHOLD_KEY = "risk_threshold"
DIMENSION_KEY = "risk_dimension"
COVER_CHART_SKUS = 15

texts = ui.catalogue()
filters = ui.current_filters()
scope = data.RiskScope.of(filters)
st.title(texts.text("risk.title"))

absent = data.missing_marts(*data.RISK_MARTS)
if len(absent) == len(data.RISK_MARTS):
    st.info(
        texts.text("risk.missing", names=", ".join(absent), marts_dir=data.marts_dir_label()),
        icon=":material/info:",
    )
    st.stop()

scoring = {mart: data.risk_scoring(mart) for mart in data.RISK_MARTS if mart not in absent}
delivery = scoring.get(data.DELIVERY_RISK)
stockout = scoring.get(data.STOCKOUT_RISK)
scored = [one for one in (delivery, stockout) if one is not None and one.rows]
as_of = max((one.features_as_of for one in scored if one.features_as_of), default=None)


def _model(one: data.RiskScoring | None) -> str:
    if one is None or not one.rows or not one.model_version:
        return texts.text("risk.no_model")
    return ui.plain(one.model_version)


# ---- what was scored, when, with which model: said plainly before any figure
st.caption(
    texts.text(
        "risk.subtitle",
        as_of=f"{as_of:%Y-%m-%d %H:%M}" if as_of else MISSING,
        timezone=settings.reporting_timezone(),
        delivery_model=_model(delivery),
        stockout_model=_model(stockout),
    )
)
st.caption(texts.text("risk.scope"))


def _unavailable(mart: str, one: data.RiskScoring | None) -> str | None:
    """Why a risk cannot be shown: its mart is not built, or holds nothing yet (a build
    without enough history writes it empty)."""
    if one is None:
        return texts.text("risk.missing", names=mart, marts_dir=data.marts_dir_label())
    if not one.rows:
        kind = "delivery" if mart == data.DELIVERY_RISK else "stockout"
        return texts.text(f"risk.no_history_{kind}")
    return None


if THRESHOLD_KEY not in st.session_state:
    st.session_state[THRESHOLD_KEY] = data.LATE_RISK_THRESHOLD
picker, _ = st.columns([2, 3])
threshold = picker.select_slider(
    texts.text("risk.threshold"),
    options=data.LATE_RISK_THRESHOLDS,
    format_func=lambda share: format_percent(share, 0),
    key=THRESHOLD_KEY,
)
threshold_label = format_percent(threshold, 0)

delivery_why = _unavailable(data.DELIVERY_RISK, delivery)
stockout_why = _unavailable(data.STOCKOUT_RISK, stockout)
late = None if delivery_why else data.delivery_risk_summary(scope, threshold)
stock = None if stockout_why else data.stockout_risk_summary(scope)


def _period(first: str | None, last: str | None) -> str:
    """A replay's span as local days, "2026-10-26 – 2026-11-08"."""
    days = [data.replay_moment(moment) for moment in (first, last)]
    return " – ".join(f"{day:%Y-%m-%d}" if day else MISSING for day in days)


def _ahead(key: str, part: dict, flagged: str, total: str) -> str:
    """How many were flagged before they happened, of how many, a median how many hours ahead."""
    return texts.text(
        key,
        flagged=format_count(part.get(flagged)),
        total=format_count(part.get(total)),
        hours=format_count(part.get("median_lead_time_hours")),
    )


def _score(value) -> str:
    """A ROC AUC, two decimals."""
    return MISSING if value is None else f"{value:.2f}"


def _not_replayed(part: dict, tiles: tuple[str, ...], line: str) -> tuple[list, str] | None:
    """Blank tiles and the replay's reason, for a risk it could not score; None when it did."""
    if part and "not_enough_history" not in part:
        return None
    blank = [(texts.text(tile), MISSING, None, None) for tile in tiles]
    return blank, texts.text(line, reason=_why_not_replayed(part))


def _why_not_replayed(part: dict) -> str:
    """The replay's reason in the page's language when the report names it; else its own
    sentence (another cause, an older report), shown as plain text."""
    if named := data.not_replayed_reason(part):
        code, details = named
        return texts.text(f"risk.not_replayed_{code}", **details)
    return ui.plain(part.get("not_enough_history") or texts.text("risk.record_absent"))


def _late_record(late: dict) -> tuple[list, str]:
    """The late-delivery tiles of the replay, and the line under them."""
    tiles = ("risk.record_auc", "risk.record_top")
    if blank := _not_replayed(late, tiles, "risk.record_late_not_scored"):
        return blank
    model, baseline = late["model"], late["baseline"]
    period = _period(late["scored_from"], late["scored_until"])
    tiles = [
        (
            texts.text("risk.record_auc"),
            _score(model.get("roc_auc")),
            texts.text("risk.record_baseline", value=_score(baseline.get("roc_auc"))),
            texts.text("risk.help_record_auc", period=period),
        ),
        (
            texts.text("risk.record_top"),
            format_percent(model.get("precision_at_top_5pct")),
            texts.text(
                "risk.record_baseline",
                value=format_percent(baseline.get("precision_at_top_5pct")),
            ),
            texts.text("risk.help_record_top", period=period),
        ),
    ]
    ahead = _ahead("risk.record_late_line", late, "flagged_before", "late_orders")
    return tiles, ahead


def _stockout_record(stock: dict) -> tuple[list, str]:
    """The stock-out tiles of the replay, and the line under them."""
    tiles = ("risk.record_precision", "risk.record_recall")
    if blank := _not_replayed(stock, tiles, "risk.record_stockout_not_scored"):
        return blank
    counts = {
        "period": _period(stock["first_as_of"], stock["last_as_of"]),
        "flagged": format_count(stock["flagged"]),
        "went_out": format_count(stock["went_out"]),
        "hits": format_count(stock["true_positives"]),
    }
    tiles = [
        (
            texts.text(f"risk.record_{share}"),
            format_percent(stock.get(share)),
            None,
            texts.text(f"risk.help_record_{share}", **counts),
        )
        for share in ("precision", "recall")
    ]
    ahead = _ahead("risk.record_stockout_line", stock, "run_outs_flagged_before", "run_outs")
    return tiles, ahead


def _show_track_record(record: data.TrackRecord) -> None:
    """Four tiles (late delivery against its baseline, stock-out precision and recall), a
    line each on how far ahead, and when it was measured."""
    late_tiles, late_line = _late_record(record.late_delivery)
    stock_tiles, stock_line = _stockout_record(record.stock_out)
    columns = st.columns(4)
    for column, (label, value, beside, explained) in zip(
        columns, late_tiles + stock_tiles, strict=True
    ):
        # the baseline beside the model: a comparison, not a change (no arrow)
        column.metric(
            label, value, beside, delta_color="off", delta_arrow="off", border=True, help=explained
        )
    st.caption(late_line + " " + stock_line)
    st.caption(
        texts.text("risk.record_caption", measured_at=f"{record.measured_at:%Y-%m-%d %H:%M}")
    )


# ---- the tiles
tiles = [
    (
        texts.text("risk.tile_orders_at_risk"),
        MISSING if late is None else format_count(late["orders_at_risk"]),
        None
        if late is None
        else texts.text(
            "risk.help_orders_at_risk",
            threshold=threshold_label,
            open_orders=format_count(late["open_orders"]),
        ),
    ),
    (
        texts.text("risk.tile_expected_late"),
        MISSING if late is None else f"{late['expected_late_orders']:,.1f}",
        None
        if late is None
        else texts.text(
            "risk.help_expected_late",
            open_orders=format_count(late["open_orders"]),
            baseline=f"{late['baseline_late_orders']:,.1f}",
        ),
    ),
    (
        texts.text("risk.tile_skus_at_risk"),
        MISSING if stock is None else format_count(stock["skus_at_risk"]),
        None
        if stock is None
        else texts.text("risk.help_skus_at_risk", skus=format_count(stock["skus"])),
    ),
    (
        texts.text("risk.tile_orders_hit"),
        MISSING if stock is None else format_count(stock["orders_hit"]),
        None if stock is None else texts.text("risk.help_orders_hit"),
    ),
]
for column, (label, value, explained) in zip(st.columns(4), tiles, strict=True):
    column.metric(label, value, border=True, help=explained)
# what a probability is, and is not, beside the figures it explains
with st.expander(texts.text("risk.about")):
    st.markdown(texts.text("risk.about_text"))

# ---- late delivery
st.subheader(texts.text("risk.delivery"))
if delivery_why:
    st.info(delivery_why, icon=":material/info:")
elif not late["open_orders"]:
    st.info(texts.text("risk.no_open_orders"))
else:
    st.caption(texts.text("risk.delivery_caption"))
    dimension = st.radio(
        texts.text("risk.by"),
        options=list(data.RISK_DIMENSIONS),
        format_func=lambda code: texts.text(f"risk.by_{code}"),
        horizontal=True,
        key=DIMENSION_KEY,
    )
    st.plotly_chart(
        charts.expected_late_by(data.expected_late_by(scope, dimension), dimension, texts),
        key="expected_late_chart",
    )
    st.caption(texts.text("risk.chart_caption"))
    orders = data.delivery_risk_orders(scope, threshold)
    if orders.empty:
        st.info(
            texts.text(
                "risk.none_at_risk",
                threshold=threshold_label,
                highest=format_percent(late["highest_probability"]),
            )
        )
    else:
        st.caption(
            texts.text(
                "risk.listed" if len(orders) < late["orders_at_risk"] else "risk.listed_all",
                total=format_count(late["orders_at_risk"]),
                threshold=threshold_label,
                shown=format_count(len(orders)),
            )
        )
        ui.table(
            orders,
            texts,
            "delivery_risk",
            key="delivery_risk_table",
            percents=("late_probability", "baseline_probability"),
            hours=("age_hours",),
            times=("due_at", "last_scan_at"),
            height=420,
        )

# ---- stock-out
st.subheader(texts.text("risk.stockout"))
if stockout_why:
    st.info(stockout_why, icon=":material/info:")
else:
    skus = data.stockout_risk_skus(scope)
    if skus.empty:
        st.info(texts.text("risk.no_skus_at_risk"))
    else:
        st.caption(texts.text("risk.stockout_caption"))
        st.plotly_chart(
            charts.cover_against_lead_time(skus.head(COVER_CHART_SKUS), texts),
            key="cover_chart",
        )
        st.caption(texts.text("risk.cover_chart_caption"))
        ui.table(
            skus,
            texts,
            "stockout_risk",
            key="stockout_risk_table",
            numbers=(
                "forecast_daily_demand",
                "days_of_cover",
                "lead_time_days",
                "expected_orders",
                "expected_impact",
            ),
            dates=("expected_stockout_date",),
            percents=("stockout_probability",),
            height=420,
        )

# ---- how the flags did: the last replay of `oex evaluate`, on the weeks whose outcome is in
st.subheader(texts.text("risk.record"))
record = data.risk_track_record()
if record is None:
    st.caption(texts.text("risk.record_missing"))
elif record.problem:
    st.warning(
        texts.text("risk.record_unreadable", problem=ui.plain(record.problem)),
        icon=":material/warning:",
    )
else:
    _show_track_record(record)
