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
        {{ dbt.dateadd('hour', var('missing_in_wms_hours'), 'orders.paid_at') }} as detected_at
    from orders
    cross join run
    where
        orders.paid_at is not null
        and orders.first_wms_received_at is null
        and orders.first_cancelled_at is null
        and {{ dbt.dateadd('hour', var('missing_in_wms_hours'), 'orders.paid_at') }} <= run.as_of
)

select * from final
