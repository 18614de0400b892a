-- One row per exception of one merchant's orders placed in the week.
with order_exceptions as (
    select * from read_parquet($fct_order_exceptions)
),

final as (
    select
        exception_id,
        order_id,
        family,
        exception_type,
        priority,
        owner_team,
        placed_at,
        detected_at,
        resolved_at,
        resolution,
        handling_hours,
        is_within_sla,
        is_open,
        is_overdue,
        root_cause,
        suggested_action,
    from order_exceptions
    where merchant_id = $merchant_id
        and week = $week
)

select * from final
order by detected_at, exception_id
