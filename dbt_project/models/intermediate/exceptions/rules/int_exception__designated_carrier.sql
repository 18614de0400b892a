with

orders as (
    select * from {{ ref('int_orders__context') }}
),

final as (
    select
        orders.order_id,
        'designated_carrier' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        orders.placed_at as detected_at
    from orders
    where not {{ is_blank('orders.designated_carrier') }}
)

select * from final
