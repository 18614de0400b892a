with

orders as (
    select * from {{ ref('int_orders__context') }}
),

final as (
    select
        orders.order_id,
        'sync_delay' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        {{ dbt.dateadd('minute', var('sync_delay_minutes'), 'orders.paid_at') }} as detected_at
    from orders
    where orders.first_wms_received_at > {{ dbt.dateadd('minute', var('sync_delay_minutes'), 'orders.paid_at') }}
)

select * from final
