with

orders as (
    select * from {{ ref('int_orders__context') }}
),

final as (
    select
        orders.order_id,
        'address_incomplete' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        orders.placed_at as detected_at
    from orders
    where
        {{ is_blank('orders.province') }}
        or {{ is_blank('orders.city') }}
        or {{ is_blank('orders.district') }}
        or {{ is_blank('orders.address') }}
        -- no digit means no house number: the courier cannot find the door
        or not {{ regex_matches('orders.address', '.*[0-9].*') }}
)

select * from final
