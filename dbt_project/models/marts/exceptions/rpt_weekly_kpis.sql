with

orders as (
    select * from {{ ref('fct_orders') }}
),

exceptions as (
    select * from {{ ref('fct_order_exceptions') }}
),

orders_per_slice as (
    select  -- noqa: ST06
        week,
        merchant_id,
        warehouse_id,
        channel,
        count(*) as orders,
        cast(sum(case when has_exception then 1 else 0 end) as bigint) as orders_with_exception
    from orders
    group by week, merchant_id, warehouse_id, channel
),

exceptions_per_slice as (
    select  -- noqa: ST06
        week,
        merchant_id,
        warehouse_id,
        channel,
        count(*) as exceptions,
        cast(sum(case when is_open then 1 else 0 end) as bigint) as open_exceptions,
        cast(sum(case when is_overdue then 1 else 0 end) as bigint) as overdue_exceptions,
        cast(sum(case when is_within_sla then 1 else 0 end) as bigint) as exceptions_within_sla,
        cast(sum(case when not is_open then 1 else 0 end) as bigint) as exceptions_closed,
        cast(sum(case when is_success then 1 else 0 end) as bigint) as successes,
        cast(sum(case when is_recurrence then 1 else 0 end) as bigint) as recurrences
    from exceptions
    group by week, merchant_id, warehouse_id, channel
),

final as (
    select
        orders_per_slice.week,
        orders_per_slice.merchant_id,
        orders_per_slice.warehouse_id,
        orders_per_slice.channel,
        orders_per_slice.orders,
        orders_per_slice.orders_with_exception,
        coalesce(exceptions_per_slice.exceptions, 0) as exceptions,
        cast(orders_per_slice.orders_with_exception as {{ type_double() }}) / orders_per_slice.orders
            as exception_rate,
        coalesce(exceptions_per_slice.open_exceptions, 0) as open_exceptions,
        coalesce(exceptions_per_slice.overdue_exceptions, 0) as overdue_exceptions,
        coalesce(exceptions_per_slice.exceptions_within_sla, 0) as exceptions_within_sla,
        coalesce(exceptions_per_slice.exceptions_closed, 0) as exceptions_closed,
        coalesce(exceptions_per_slice.successes, 0) as successes,
        coalesce(exceptions_per_slice.recurrences, 0) as recurrences
    from orders_per_slice
    left join exceptions_per_slice
        on
            orders_per_slice.week = exceptions_per_slice.week
            and orders_per_slice.merchant_id = exceptions_per_slice.merchant_id
            and orders_per_slice.warehouse_id = exceptions_per_slice.warehouse_id
            and orders_per_slice.channel = exceptions_per_slice.channel
)

select * from final
