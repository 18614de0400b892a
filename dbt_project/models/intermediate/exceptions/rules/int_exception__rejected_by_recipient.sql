with

orders as (
    select * from {{ ref('int_orders__context') }}
),

shipments as (
    select * from {{ ref('int_shipments__tracking_summary') }}
),

final as (
    select
        orders.order_id,
        'rejected_by_recipient' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        shipments.first_rejected_at as detected_at
    from orders
    inner join shipments on orders.shipment_id = shipments.shipment_id
    where shipments.first_rejected_at is not null
)

select * from final
