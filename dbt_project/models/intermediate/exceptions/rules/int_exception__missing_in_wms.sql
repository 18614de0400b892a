with

orders as (
    select * from {{ ref('int_orders__context') }}
),

run as (
    select as_of from {{ ref('int_run_as_of') }}
),

final as (
    select
        orders.order_id,
        'missing_in_wms' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        {{ add_seconds('orders.paid_at', threshold('orders', 'missing_in_wms_hours') ~ ' * 3600') }} as detected_at
    from orders
    cross join run
    where
        orders.paid_at is not null
        and orders.first_wms_received_at is null
        and orders.first_cancelled_at is null
        and {{ add_seconds('orders.paid_at', threshold('orders', 'missing_in_wms_hours') ~ ' * 3600') }} <= run.as_of
)

select * from final
