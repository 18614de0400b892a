-- One row per exception type the merchant met this week, with what to do about it.
with order_exceptions as (
    select * from read_parquet($fct_order_exceptions)
),

exception_types as (
    select * from read_parquet($dim_exception_types)
),

week_by_type as (
    select
        exception_type,
        count(*) as exceptions,
        count(*) filter (where is_open) as open_exceptions,
        count(*) filter (where is_overdue) as overdue_exceptions,
    from order_exceptions
    where merchant_id = $merchant_id
        and week = $week
    group by exception_type
),

final as (
    select
        week_by_type.exception_type,
        exception_types.family,
        exception_types.kind,
        exception_types.priority,
        exception_types.owner_team,
        week_by_type.exceptions,
        week_by_type.open_exceptions,
        week_by_type.overdue_exceptions,
        exception_types.root_cause,
        exception_types.suggested_action,
    from week_by_type
    left join exception_types using (exception_type)
)

select * from final
order by kind, exceptions desc, priority, exception_type
