with

orders as (
    select * from {{ ref('int_orders__context') }}
),

final as (
    select
        orders.order_id,
        'payment_failed' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        orders.first_payment_failed_at as detected_at
    from orders
    where orders.first_payment_failed_at is not null
)

select * from final
