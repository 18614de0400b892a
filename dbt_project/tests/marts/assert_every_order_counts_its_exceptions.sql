-- Assert that each order's exception_count equals its rows in fct_order_exceptions.
with

counted as (
    select
        order_id,
        count(*) as exceptions
    from {{ ref('fct_order_exceptions') }}
    group by order_id
)

select fct_orders.order_id
from {{ ref('fct_orders') }} as fct_orders
left join counted on fct_orders.order_id = counted.order_id
where fct_orders.exception_count <> coalesce(counted.exceptions, 0)
