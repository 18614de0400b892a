-- One row per week for one merchant: the additive counts (failures, and special requests
-- apart) re-aggregated over warehouses and channels, for the weeks from $first_week to $week.
with weekly_kpis as (
    select * from read_parquet($rpt_weekly_kpis)
),

final as (
    select
        week,
        sum(orders)::bigint as orders,
        sum(orders_with_exception)::bigint as orders_with_exception,
        sum(exceptions)::bigint as exceptions,
        sum(open_exceptions)::bigint as open_exceptions,
        sum(overdue_exceptions)::bigint as overdue_exceptions,
        sum(exceptions_within_sla)::bigint as exceptions_within_sla,
        sum(exceptions_closed)::bigint as exceptions_closed,
        sum(successes)::bigint as successes,
        sum(recurrences)::bigint as recurrences,
        sum(special_requests)::bigint as special_requests,
    from weekly_kpis
    where merchant_id = $merchant_id
        and week between $first_week and $week
    group by week
)

select * from final
order by week
