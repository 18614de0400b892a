{{ config(materialized='incremental', incremental_strategy='rebuild_orders',
          meta={'rebuild_scope': 'exceptions'}) }}
-- depends_on: {{ ref('int_exceptions__rebuild_scope') }}

with

orders as (
    select * from {{ ref('int_orders__context') }}
    where {{ in_rebuild_scope('order_id') }}
),

exceptions as (
    select * from {{ ref('int_exceptions_unioned') }}
    where {{ in_rebuild_scope('order_id') }}
),

delivered as (
    select
        order_id,
        min(first_delivered_at) as delivered_at
    from {{ ref('int_shipments__tracking_summary') }}
    where {{ in_rebuild_scope('order_id') }}
    group by order_id
),

-- failures (something went wrong) and special requests (work to do) are counted apart
exceptions_per_order as (
    select
        order_id,
        count(*) as exception_count,
        -- counts, bigint on every engine (DuckDB sums integers to a 128-bit integer)
        count(case when kind = 'failure' then 1 end) as failure_count,
        count(case when kind = 'special_request' then 1 end) as special_request_count
    from exceptions
    group by order_id
),

final as (
    select
        orders.order_id,
        orders.merchant_id,
        orders.merchant_name,
        orders.warehouse_id,
        orders.channel,
        orders.carrier,
        orders.province,
        orders.country,
        orders.payment_method,
        orders.source_profile,
        orders.placed_at,
        orders.week,
        -- the order log ends at shipped; the carrier tells us when it arrived
        case
            when delivered.delivered_at is not null and orders.order_status = 'shipped' then 'delivered'
            else orders.order_status
        end as order_status,
        coalesce(exceptions_per_order.exception_count, 0) as exception_count,
        coalesce(exceptions_per_order.failure_count, 0) as failure_count,
        coalesce(exceptions_per_order.failure_count, 0) > 0 as has_failure,
        coalesce(exceptions_per_order.special_request_count, 0) as special_request_count,
        coalesce(exceptions_per_order.special_request_count, 0) > 0 as has_special_request
    from orders
    left join exceptions_per_order on orders.order_id = exceptions_per_order.order_id
    left join delivered on orders.order_id = delivered.order_id
)

select * from final
