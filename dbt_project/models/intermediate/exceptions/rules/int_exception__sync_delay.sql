with

orders as (
    select * from {{ ref('int_orders__context') }}
),

final as (
    select
        orders.order_id,
        'sync_delay' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        {{ add_seconds('orders.paid_at', threshold('orders', 'sync_delay_minutes') ~ ' * 60') }} as detected_at
    from orders
    where orders.first_wms_received_at > {{ add_seconds('orders.paid_at', threshold('orders', 'sync_delay_minutes') ~ ' * 60') }}
)

select * from final
