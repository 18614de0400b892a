{%- set families = ['payment', 'info', 'inventory', 'logistics', 'fulfilment', 'system', 'special'] %}
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

exceptions_per_order as (
    select
        order_id,
        count(*) as exception_count,
    {% for family in families -%}
        max(case when family = '{{ family }}' then 1 else 0 end) = 1
            as has_{{ family }}_exception{{ ',' if not loop.last }}  -- noqa: LT02
    {% endfor %}
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
        orders.placed_at,
        orders.week,
        -- the order log ends at shipped; the carrier tells us when it arrived
        case
            when delivered.delivered_at is not null and orders.order_status = 'shipped' then 'delivered'
            else orders.order_status
        end as order_status,
        coalesce(exceptions_per_order.exception_count, 0) as exception_count,
        coalesce(exceptions_per_order.exception_count, 0) > 0 as has_exception,
    {% for family in families -%}
        coalesce(exceptions_per_order.has_{{ family }}_exception, false)
            as has_{{ family }}_exception{{ ',' if not loop.last }}  -- noqa: LT02
    {% endfor %}
    from orders
    left join exceptions_per_order on orders.order_id = exceptions_per_order.order_id
    left join delivered on orders.order_id = delivered.order_id
)

select * from final
