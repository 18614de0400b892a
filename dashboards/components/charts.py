"""Chart builders: data frame + catalogue in, Plotly figure out. No Streamlit here."""

from __future__ import annotations

from html import escape

import pandas as pd
import plotly.graph_objects as go

from dashboards.components.theme import (
    CUMULATIVE_COLOUR,
    FAMILIES,
    LEAD_TIME_COLOUR,
    PROVISIONAL_OPACITY,
    RISK_COLOURS,
    SLA_COLOUR,
    UNKNOWN_COLOUR,
    family_colour,
)
from dashboards.i18n import Catalogue

_LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    "hoverlabel": {"namelength": -1},
}


def _ordered_families(present: pd.Series) -> list[str]:
    known = [family for family in FAMILIES if family in set(present)]
    return known + sorted(set(present) - set(FAMILIES))


def family_trend(trend: pd.DataFrame, catalogue: Catalogue) -> go.Figure:
    """Lines of the failure rate per family over weeks. Columns: week, family, exception_rate,
    and optionally is_provisional: a provisional week (its failures still appearing) is drawn
    as a dashed, faded segment with hollow markers, so a young week's dip does not read as an
    improvement."""
    figure = go.Figure()
    flags = trend["is_provisional"] if "is_provisional" in trend else pd.Series(False, trend.index)
    provisional = set(trend.loc[flags.astype(bool), "week"])
    for family in _ordered_families(trend["family"]):
        rows = trend[trend["family"] == family].sort_values("week")
        name = catalogue.name("family", family)
        colour = family_colour(family)
        settled = rows[~rows["week"].isin(provisional)]
        figure.add_trace(
            go.Scatter(
                x=settled["week"],
                y=settled["exception_rate"],
                name=name,
                legendgroup=family,
                mode="lines+markers",
                line={"color": colour, "width": 2},
                hovertemplate="%{x}: %{y:.1%}<extra>%{fullData.name}</extra>",
            )
        )
        young = rows[rows["week"].isin(provisional)]
        if not young.empty:
            # joined to the last settled point, dashed: still filling in
            bridge = pd.concat([settled.tail(1), young])
            figure.add_trace(
                go.Scatter(
                    x=bridge["week"],
                    y=bridge["exception_rate"],
                    name=f"{name} ({catalogue.text('weekly.provisional_short')})",
                    legendgroup=family,
                    showlegend=False,
                    mode="lines+markers",
                    opacity=PROVISIONAL_OPACITY,
                    line={"color": colour, "width": 2, "dash": "dash"},
                    marker={"symbol": "circle-open", "size": 9},
                    hovertemplate="%{x}: %{y:.1%}<extra>%{fullData.name}</extra>",
                )
            )
    figure.update_layout(**_LAYOUT)
    figure.update_xaxes(
        title=catalogue.text("axis.week"),
        type="category",
        categoryorder="array",
        categoryarray=sorted(trend["week"].unique()),
    )
    figure.update_yaxes(
        title=catalogue.text("axis.exception_rate"), tickformat=".1%", rangemode="tozero"
    )
    return figure


def type_share(shares: pd.DataFrame, catalogue: Catalogue) -> go.Figure:
    """Treemap family > sub-type sized by exceptions.

    Columns: family, exception_type, exceptions.
    """
    shares = shares[shares["exceptions"] > 0]
    families = shares.groupby("family", as_index=False)["exceptions"].sum()
    ids = [f"f/{f}" for f in families["family"]]
    labels = [catalogue.name("family", f) for f in families["family"]]
    parents = [""] * len(families)
    values = families["exceptions"].tolist()
    colours = [family_colour(f) for f in families["family"]]
    for row in shares.itertuples(index=False):
        ids.append(f"t/{row.family}/{row.exception_type}")
        labels.append(catalogue.name("exception_type", row.exception_type))
        parents.append(f"f/{row.family}")
        values.append(row.exceptions)
        colours.append(family_colour(row.family))
    figure = go.Figure(
        go.Treemap(
            ids=ids,
            labels=labels,
            parents=parents,
            values=values,
            branchvalues="total",
            marker={"colors": colours},
            texttemplate="%{label}<br>%{value:,} · %{percentRoot:.1%}",
            hovertemplate="%{label}: %{value:,} (%{percentRoot:.1%})<extra></extra>",
        )
    )
    figure.update_layout(margin={"l": 0, "r": 0, "t": 10, "b": 0})
    return figure


def response_against_sla(handling: pd.DataFrame, catalogue: Catalogue) -> go.Figure:
    """First-response hours per sub-type (median bar, P90 marker) against the first-response
    SLA: the service level measures the first response, so the bars do too.

    Columns: family, exception_type, median_response_hours, p90_response_hours, sla_hours.
    """
    handling = handling.sort_values(["median_response_hours"], ascending=True)
    names = [catalogue.name("exception_type", code) for code in handling["exception_type"]]
    hours = catalogue.text("unit.hours")
    template = f"%{{y}}: %{{x:.1f}} {hours}<extra>%{{fullData.name}}</extra>"
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            y=names,
            x=handling["median_response_hours"],
            orientation="h",
            name=catalogue.text("axis.median_response"),
            marker={"color": [family_colour(f) for f in handling["family"]]},
            hovertemplate=template,
        )
    )
    figure.add_trace(
        go.Scatter(
            y=names,
            x=handling["p90_response_hours"],
            mode="markers",
            name=catalogue.text("axis.p90_response"),
            marker={"symbol": "diamond", "color": CUMULATIVE_COLOUR, "size": 8},
            hovertemplate=template,
        )
    )
    figure.add_trace(
        go.Scatter(
            y=names,
            x=handling["sla_hours"],
            mode="markers",
            name=catalogue.text("axis.sla"),
            marker={
                "symbol": "line-ns-open",
                "color": SLA_COLOUR,
                "size": 16,
                "line": {"width": 3},
            },
            hovertemplate=template,
        )
    )
    figure.update_layout(**_LAYOUT, height=max(300, 28 * len(handling) + 80))
    figure.update_xaxes(title=catalogue.text("axis.response_hours"), rangemode="tozero")
    return figure


def root_cause_pareto(causes: pd.DataFrame, catalogue: Catalogue) -> go.Figure:
    """Bars of failures per root cause, largest first, named with the team that owns the
    cause, and the cumulative share.

    Columns: root_cause, exceptions, cumulative_share, and optionally owner_team.
    """
    causes = causes.sort_values("exceptions", ascending=False)
    owners = causes["owner_team"] if "owner_team" in causes else [None] * len(causes)
    names = [
        f"{catalogue.name('root_cause', code)}<br>({catalogue.name('owner_team', owner)})"
        if owner
        else catalogue.name("root_cause", code)
        for code, owner in zip(causes["root_cause"], owners, strict=True)
    ]
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=names,
            y=causes["exceptions"],
            name=catalogue.text("axis.exceptions"),
            marker={"color": "#0072B2"},
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=names,
            y=causes["cumulative_share"],
            name=catalogue.text("axis.cumulative_share"),
            yaxis="y2",
            mode="lines+markers",
            line={"color": CUMULATIVE_COLOUR},
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        )
    )
    figure.update_layout(
        **_LAYOUT,
        yaxis={"title": catalogue.text("axis.exceptions"), "rangemode": "tozero"},
        yaxis2={
            "title": catalogue.text("axis.cumulative_share"),
            "overlaying": "y",
            "side": "right",
            "tickformat": ".0%",
            "range": [0, 1.05],
            "tickvals": [0, 0.25, 0.5, 0.75, 1],
            "showgrid": False,
        },
    )
    return figure


def what_changed(changes: pd.DataFrame, catalogue: Catalogue) -> go.Figure:
    """Horizontal bars of the values that moved a root cause's failures against last week, the
    largest move on top. Columns: root_cause, dimension, dimension_value, change."""
    changes = changes.assign(size=changes["change"].abs()).sort_values("size")
    labels = [
        f"{catalogue.name('root_cause', row.root_cause)} · "
        f"{catalogue.name('dimension', row.dimension)} "
        f"{value_name(catalogue, row.dimension, row.dimension_value)}"
        for row in changes.itertuples(index=False)
    ]
    figure = go.Figure(
        go.Bar(
            y=labels,
            x=changes["change"],
            orientation="h",
            marker={"color": ["#D55E00" if c > 0 else "#009E73" for c in changes["change"]]},
            hovertemplate="%{y}: %{x:+,}<extra></extra>",
        )
    )
    figure.update_layout(**_LAYOUT, height=max(260, 30 * len(changes) + 80), showlegend=False)
    figure.update_xaxes(title=catalogue.text("axis.change"), zeroline=True)
    return figure


def value_name(catalogue: Catalogue, dimension: str, value: object) -> str:
    return catalogue.dimension_value(dimension, value)


def dimension_heatmap(
    cells: pd.DataFrame, dimension: str, catalogue: Catalogue, measure: str = "exceptions"
) -> go.Figure:
    """Sub-type x dimension value. Columns: exception_type, dimension_value, exceptions, and
    per_thousand (exceptions per 1,000 of the value's orders) when that is the measure.
    Values are ordered by their count of exceptions either way, biggest first."""
    grid = cells.pivot_table(
        index="exception_type",
        columns="dimension_value",
        values="exceptions",
        aggfunc="sum",
        fill_value=0,
    )
    column_order = grid.sum(axis=0).sort_values(ascending=False).index
    grid = grid[column_order]
    if measure == "per_thousand":
        shown = cells.pivot_table(
            index="exception_type", columns="dimension_value", values="per_thousand", aggfunc="sum"
        ).reindex(index=grid.index, columns=column_order)
        shown = shown.fillna(0)
        hover, title = "%{z:,.1f}", catalogue.text("axis.per_thousand_orders")
    else:
        shown, hover, title = grid, "%{z:,}", catalogue.text("axis.exceptions")
    figure = go.Figure(
        go.Heatmap(
            z=shown.to_numpy(),
            x=[value_name(catalogue, dimension, value) for value in grid.columns],
            y=[catalogue.name("exception_type", code) for code in grid.index],
            colorscale="Blues",
            hovertemplate=f"%{{y}} · %{{x}}: {hover}<extra></extra>",
            colorbar={"title": title},
        )
    )
    figure.update_layout(margin=_LAYOUT["margin"], height=max(300, 30 * len(grid) + 120))
    figure.update_xaxes(title=catalogue.name("dimension", dimension), type="category")
    return figure


def dimension_bars(totals: pd.DataFrame, dimension: str, catalogue: Catalogue) -> go.Figure:
    """Exceptions per dimension value, stacked by family. Columns: dimension_value, family,
    exceptions."""
    order = (
        totals.groupby("dimension_value")["exceptions"]
        .sum()
        .sort_values(ascending=False)
        .index.tolist()
    )
    names = {value: value_name(catalogue, dimension, value) for value in order}
    figure = go.Figure()
    for family in _ordered_families(totals["family"]):
        rows = totals[totals["family"] == family]
        figure.add_trace(
            go.Bar(
                x=[names[value] for value in rows["dimension_value"]],
                y=rows["exceptions"],
                name=catalogue.name("family", family),
                marker={"color": family_colour(family)},
                customdata=rows["dimension_value"],
                hovertemplate="%{x}: %{y:,}<extra>%{fullData.name}</extra>",
            )
        )
    figure.update_layout(**_LAYOUT, barmode="stack")
    figure.update_xaxes(
        title=catalogue.name("dimension", dimension),
        type="category",
        categoryorder="array",
        categoryarray=[names[v] for v in order],
    )
    figure.update_yaxes(title=catalogue.text("axis.exceptions"))
    return figure


def order_timeline(events: pd.DataFrame, catalogue: Catalogue) -> go.Figure:
    """Events of one order on a time axis, one row per source. Columns: occurred_at, source,
    event_type, detail.

    Labels alternate above and below their point so neighbours do not run into each other;
    times are written as numbers (month-day hour:minute), the same in every language; text from
    the data (a customer's complaint) is shown as text, never as markup."""
    sources = [catalogue.name("source", source) for source in events["source"]]
    order = list(dict.fromkeys(sources))
    positions = []
    seen: dict[str, int] = {}
    for source in sources:
        seen[source] = seen.get(source, -1) + 1
        positions.append("top center" if seen[source] % 2 == 0 else "bottom center")
    figure = go.Figure(
        go.Scatter(
            x=events["occurred_at"],
            y=sources,
            mode="markers+text",
            text=[
                escape(catalogue.event_name(code, source))
                for code, source in zip(events["event_type"], events["source"], strict=True)
            ],
            textposition=positions,
            textfont={"size": 11},
            marker={"size": 11, "color": "#0072B2"},
            customdata=[escape(str(detail)) for detail in events["detail"].fillna("")],
            hovertemplate="%{x|%Y-%m-%d %H:%M} · %{text}<br>%{customdata}<extra></extra>",
            cliponaxis=False,
        )
    )
    figure.update_layout(
        margin={"l": 10, "r": 30, "t": 30, "b": 10},
        height=max(320, 110 * len(order) + 80),
        showlegend=False,
    )
    figure.update_xaxes(title=catalogue.text("axis.occurred_at"), tickformat="%m-%d %H:%M")
    figure.update_yaxes(
        title=catalogue.text("axis.source"),
        type="category",
        categoryorder="array",
        categoryarray=order,
        range=[-0.7, len(order) - 0.3],
    )
    return figure


def risk_value_name(catalogue: Catalogue, dimension: str, value: object) -> str:
    """A route, carrier or warehouse of the risk page; an order without a shipment has no
    carrier yet."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return catalogue.text("risk.no_carrier_yet") if dimension == "carrier" else "?"
    if dimension == "carrier":
        return escape(catalogue.name("carrier", value))
    return escape(str(value))


def expected_late_by(cells: pd.DataFrame, dimension: str, catalogue: Catalogue) -> go.Figure:
    """Horizontal bars of expected late orders (late probabilities added up) per route,
    carrier or warehouse, stacked by the exception the orders head for, the most on top.

    Columns: dimension_value, risk_type, open_orders, expected_late_orders.
    """
    labels = [risk_value_name(catalogue, dimension, v) for v in cells["dimension_value"]]
    cells = cells.assign(label=labels)
    order = (
        cells.groupby("label", sort=False)["expected_late_orders"]
        .sum()
        .sort_values()
        .index.tolist()
    )
    open_orders = catalogue.column("open_orders")
    figure = go.Figure()
    kinds = [code for code in RISK_COLOURS if code in set(cells["risk_type"])]
    kinds += sorted(set(cells["risk_type"].dropna()) - set(kinds))
    for risk_type in kinds:
        rows = cells[cells["risk_type"] == risk_type]
        figure.add_trace(
            go.Bar(
                y=rows["label"],
                x=rows["expected_late_orders"],
                orientation="h",
                name=catalogue.name("exception_type", risk_type),
                marker={"color": RISK_COLOURS.get(risk_type, UNKNOWN_COLOUR)},
                customdata=rows["open_orders"],
                hovertemplate=(
                    f"%{{y}}: %{{x:,.1f}} · {open_orders} %{{customdata:,}}"
                    "<extra>%{fullData.name}</extra>"
                ),
            )
        )
    figure.update_layout(**_LAYOUT, barmode="stack", height=max(280, 30 * len(order) + 100))
    figure.update_xaxes(title=catalogue.text("axis.expected_late_orders"), rangemode="tozero")
    figure.update_yaxes(type="category", categoryorder="array", categoryarray=order)
    return figure


def cover_against_lead_time(skus: pd.DataFrame, catalogue: Catalogue) -> go.Figure:
    """Days of cover (bars) against the replenishment lead time (diamonds) per SKU and
    warehouse, in the order given, the first on top: a bar that stops short of its diamond
    runs out before replenishment can arrive.

    Columns: sku, warehouse_id, days_of_cover, lead_time_days.
    """
    skus = skus.iloc[::-1]
    labels = [
        f"{escape(str(sku))} · {escape(str(warehouse))}"
        for sku, warehouse in zip(skus["sku"], skus["warehouse_id"], strict=True)
    ]
    days = catalogue.text("axis.days")
    template = f"%{{y}}: %{{x:,.1f}} {days}<extra>%{{fullData.name}}</extra>"
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            y=labels,
            x=skus["days_of_cover"],
            orientation="h",
            name=catalogue.text("axis.days_of_cover"),
            marker={"color": RISK_COLOURS["out_of_stock"]},
            hovertemplate=template,
        )
    )
    figure.add_trace(
        go.Scatter(
            y=labels,
            x=skus["lead_time_days"],
            mode="markers",
            name=catalogue.text("axis.lead_time"),
            marker={"symbol": "diamond", "color": LEAD_TIME_COLOUR, "size": 10},
            hovertemplate=template,
        )
    )
    figure.update_layout(**_LAYOUT, height=max(280, 30 * len(skus) + 100))
    figure.update_xaxes(title=catalogue.text("axis.days"), rangemode="tozero")
    figure.update_yaxes(type="category", categoryorder="array", categoryarray=labels)
    return figure
