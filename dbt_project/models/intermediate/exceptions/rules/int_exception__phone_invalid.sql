with

orders as (
    select * from {{ ref('int_orders__context') }}
),

final as (
    select
        orders.order_id,
        'phone_invalid' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        orders.placed_at as detected_at
    from orders
    where
        {{ is_blank('orders.receiver_phone') }}
        or not {{ regex_matches('orders.receiver_phone', '1[3-9][0-9]{9}') }}
)

select * from final
