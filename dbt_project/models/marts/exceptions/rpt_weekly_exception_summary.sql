with

orders as (
    select * from {{ ref('fct_orders') }}
),

exceptions as (
    select * from {{ ref('fct_order_exceptions') }}
),

orders_per_slice as (
    select
        week,
        merchant_id,
        warehouse_id,
        channel,
        count(*) as orders
    from orders
    group by week, merchant_id, warehouse_id, channel
),

exceptions_per_type as (
    select
        week,
        merchant_id,
        warehouse_id,
        channel,
        family,
        kind,
        exception_type,
        count(*) as exceptions,
        -- handling time counts closed exceptions only; open ones have no end yet
        {{ percentile_cont('handling_hours', 0.5) }} as median_handling_hours,
        {{ percentile_cont('handling_hours', 0.9) }} as p90_handling_hours,
        cast(sum(case when is_within_sla then 1 else 0 end) as bigint) as exceptions_within_sla,
        cast(sum(case when not is_open then 1 else 0 end) as bigint) as exceptions_closed,
        cast(sum(case when is_success then 1 else 0 end) as bigint) as successes,
        cast(sum(case when is_recurrence then 1 else 0 end) as bigint) as recurrences,
        cast(sum(case when is_open then 1 else 0 end) as bigint) as open_exceptions,
        cast(sum(case when is_overdue then 1 else 0 end) as bigint) as overdue_exceptions
    from exceptions
    group by week, merchant_id, warehouse_id, channel, family, kind, exception_type
),

-- a type's share is of the week's failures: special requests are not things that went wrong
exceptions_per_week as (
    select
        week,
        cast(sum(exceptions) as bigint) as week_exceptions
    from exceptions_per_type
    where kind = 'failure'
    group by week
),

final as (
    select
        exceptions_per_type.week,
        exceptions_per_type.merchant_id,
        exceptions_per_type.warehouse_id,
        exceptions_per_type.channel,
        exceptions_per_type.family,
        exceptions_per_type.kind,
        exceptions_per_type.exception_type,
        orders_per_slice.orders,
        exceptions_per_type.exceptions,
        cast(exceptions_per_type.exceptions as {{ type_double() }}) / orders_per_slice.orders
            as exception_rate,
        case
            when exceptions_per_type.kind = 'failure'
                then
                    cast(exceptions_per_type.exceptions as {{ type_double() }})
                    / exceptions_per_week.week_exceptions
        end as type_share,
        exceptions_per_type.median_handling_hours,
        exceptions_per_type.p90_handling_hours,
        cast(exceptions_per_type.exceptions_within_sla as {{ type_double() }})
        / exceptions_per_type.exceptions as sla_met_share,
        case
            when exceptions_per_type.exceptions_closed > 0
                then
                    cast(exceptions_per_type.successes as {{ type_double() }})
                    / exceptions_per_type.exceptions_closed
        end as success_rate,
        cast(exceptions_per_type.recurrences as {{ type_double() }})
        / exceptions_per_type.exceptions as recurrence_rate,
        exceptions_per_type.open_exceptions,
        exceptions_per_type.overdue_exceptions
    from exceptions_per_type
    inner join orders_per_slice
        on
            exceptions_per_type.week = orders_per_slice.week
            and exceptions_per_type.merchant_id = orders_per_slice.merchant_id
            and exceptions_per_type.warehouse_id = orders_per_slice.warehouse_id
            and exceptions_per_type.channel = orders_per_slice.channel
    left join exceptions_per_week on exceptions_per_type.week = exceptions_per_week.week
)

select * from final
