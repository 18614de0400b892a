with

orders as (
    select * from {{ ref('int_orders__context') }}
),

final as (
    select
        orders.order_id,
        'amount_mismatch' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        coalesce(orders.paid_at, orders.placed_at) as detected_at
    from orders
    where
        orders.paid_amount is not null
        and abs(orders.paid_amount - orders.order_amount) > 0.01
)

select * from final
