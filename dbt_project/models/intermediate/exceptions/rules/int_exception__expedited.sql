with

orders as (
    select * from {{ ref('int_orders__context') }}
),

final as (
    select
        orders.order_id,
        'expedited' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        orders.placed_at as detected_at
    from orders
    where orders.is_expedited
)

select * from final
