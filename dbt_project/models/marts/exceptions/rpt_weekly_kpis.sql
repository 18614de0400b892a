{#- The KPIs count failures (something went wrong); special requests (work to do) have their
    own counts beside them. -#}
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
        cast(sum(case when has_failure then 1 else 0 end) as bigint) as orders_with_exception,
        cast(sum(case when has_special_request then 1 else 0 end) as bigint)
            as orders_with_special_request
    from orders
    group by week, merchant_id, warehouse_id, channel
),

failures_per_slice as (
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
    where kind = 'failure'
    group by week, merchant_id, warehouse_id, channel
),

special_requests_per_slice as (
    select  -- noqa: ST06
        week,
        merchant_id,
        warehouse_id,
        channel,
        count(*) as special_requests,
        cast(sum(case when is_within_sla then 1 else 0 end) as bigint) as special_requests_within_sla,
        cast(sum(case when is_open then 1 else 0 end) as bigint) as open_special_requests
    from exceptions
    where kind = 'special_request'
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
        coalesce(failures_per_slice.exceptions, 0) as exceptions,
        cast(orders_per_slice.orders_with_exception as {{ type_double() }}) / orders_per_slice.orders
            as exception_rate,
        coalesce(failures_per_slice.open_exceptions, 0) as open_exceptions,
        coalesce(failures_per_slice.overdue_exceptions, 0) as overdue_exceptions,
        coalesce(failures_per_slice.exceptions_within_sla, 0) as exceptions_within_sla,
        coalesce(failures_per_slice.exceptions_closed, 0) as exceptions_closed,
        coalesce(failures_per_slice.successes, 0) as successes,
        coalesce(failures_per_slice.recurrences, 0) as recurrences,
        orders_per_slice.orders_with_special_request,
        coalesce(special_requests_per_slice.special_requests, 0) as special_requests,
        coalesce(special_requests_per_slice.special_requests_within_sla, 0)
            as special_requests_within_sla,
        coalesce(special_requests_per_slice.open_special_requests, 0) as open_special_requests
    from orders_per_slice
    left join failures_per_slice
        on
            orders_per_slice.week = failures_per_slice.week
            and orders_per_slice.merchant_id = failures_per_slice.merchant_id
            and orders_per_slice.warehouse_id = failures_per_slice.warehouse_id
            and orders_per_slice.channel = failures_per_slice.channel
    left join special_requests_per_slice
        on
            orders_per_slice.week = special_requests_per_slice.week
            and orders_per_slice.merchant_id = special_requests_per_slice.merchant_id
            and orders_per_slice.warehouse_id = special_requests_per_slice.warehouse_id
            and orders_per_slice.channel = special_requests_per_slice.channel
)

select * from final
