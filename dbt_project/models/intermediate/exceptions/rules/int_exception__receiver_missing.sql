with

orders as (
    select * from {{ ref('int_orders__context') }}
),

final as (
    select
        orders.order_id,
        'receiver_missing' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        orders.placed_at as detected_at
    from orders
    where {{ is_blank('orders.receiver_name') }}
)

select * from final
