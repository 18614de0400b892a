with

orders as (
    select * from {{ ref('int_orders__context') }}
),

with_deadline as (
    select
        orders.*,
        {{ add_seconds('orders.paid_at', threshold('orders', 'sync_delay_minutes') ~ ' * 60') }}
            as sync_deadline_at
    from orders
),

final as (
    select
        with_deadline.order_id,
        'sync_delay' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        with_deadline.sync_deadline_at as detected_at
    from with_deadline
    where with_deadline.first_wms_received_at > with_deadline.sync_deadline_at
)

select * from final
