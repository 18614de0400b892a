"""The weekly review's figures, as SQL over the exported marts, shared by the dashboard and the
merchant files so both say the same thing about a week.

A week is compared with the week before. When the week is provisional (its logistics and
fulfilment failures are still appearing: rpt_week_maturity), the week before is taken at the
same age: only the failures detected by $before_cutoff (as_of minus seven days) count, open
and overdue as they stood then. Special requests are work to do, not failures: they are left
out of every rate.

Parameters: $kpis and $exceptions (the rpt_weekly_kpis and fct_order_exceptions files),
$week, $previous_week, $before_cutoff (null for a mature week), $as_of, and those of the
slice condition the caller passes (a SQL condition over merchant_id, warehouse_id, channel).
"""

from __future__ import annotations

# Each failure of the two weeks as it stood at its week's cutoff (as_of when none): detected
# by then, closed if resolved by then, overdue if its first-response deadline passed
# unanswered while it was still open.
FAILURES_AS_THEY_STOOD = """
    select
        *,
        first_response_at is not null and first_response_at <= cutoff
            and response_hours <= sla_hours as met_sla_by_cutoff,
        resolved_at is not null and resolved_at <= cutoff as closed_by_cutoff,
        (first_response_at is null or first_response_at > cutoff
            or response_hours > sla_hours)
            and (resolved_at is null or resolved_at > cutoff)
            and detected_at + to_seconds(cast(sla_hours * 3600 as bigint)) < cutoff
            as overdue_by_cutoff,
    from (
        select
            exceptions.*,
            coalesce(
                case when exceptions.week = $previous_week then $before_cutoff::timestamp end,
                $as_of::timestamp
            ) as cutoff,
        from read_parquet($exceptions) as exceptions
        where exceptions.week in ($week, $previous_week) and exceptions.kind = 'failure'
            and {slice}
    )
    where detected_at <= cutoff
"""


def weekly_kpis_sql(slice_condition: str) -> str:
    """One row per week ($week and $previous_week): orders, failures and the review's rates."""
    failures = FAILURES_AS_THEY_STOOD.format(slice=slice_condition)
    return f"""
        with orders as (
            select week, sum(orders)::bigint as orders,
            from read_parquet($kpis)
            where week in ($week, $previous_week) and {slice_condition}
            group by week
        ),
        failures as ({failures}),
        counts as (
            select
                week,
                count(distinct order_id) as orders_with_exception,
                count(*) as exceptions,
                count(*) filter (where not closed_by_cutoff) as open_exceptions,
                count(*) filter (where overdue_by_cutoff) as overdue_exceptions,
                count(*) filter (where met_sla_by_cutoff) as exceptions_within_sla,
                count(*) filter (where closed_by_cutoff) as exceptions_closed,
                count(*) filter (where closed_by_cutoff and is_success) as successes,
                count(*) filter (where is_recurrence) as recurrences,
                median(handling_hours) filter (where closed_by_cutoff) as median_handling_hours,
            from failures
            group by week
        ),
        final as (
            select
                orders.week,
                orders.orders,
                coalesce(counts.orders_with_exception, 0) as orders_with_exception,
                coalesce(counts.exceptions, 0) as exceptions,
                coalesce(counts.orders_with_exception, 0) / nullif(orders.orders, 0)
                    as exception_rate,
                coalesce(counts.open_exceptions, 0) as open_exceptions,
                coalesce(counts.overdue_exceptions, 0) as overdue_exceptions,
                coalesce(counts.exceptions_within_sla, 0) as exceptions_within_sla,
                coalesce(counts.exceptions_closed, 0) as exceptions_closed,
                coalesce(counts.successes, 0) as successes,
                coalesce(counts.recurrences, 0) as recurrences,
                counts.exceptions_within_sla / nullif(counts.exceptions, 0) as sla_met_share,
                counts.median_handling_hours,
                counts.recurrences / nullif(counts.exceptions, 0) as recurrence_rate,
                counts.successes / nullif(counts.exceptions_closed, 0) as success_rate,
            from orders
            left join counts using (week)
        )
        select * from final
    """


def failures_by_family_sql(slice_condition: str) -> str:
    """One row per week ($week, $previous_week) and family: failures, the week before at the
    same age when $before_cutoff is set."""
    return f"""
        select week, family, count(*) as exceptions,
        from read_parquet($exceptions)
        where week in ($week, $previous_week) and kind = 'failure' and {slice_condition}
            and (week = $week or $before_cutoff::timestamp is null
                 or detected_at <= $before_cutoff::timestamp)
        group by week, family
        order by family, week
    """
