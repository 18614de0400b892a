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
        'returned_to_sender' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        shipments.first_returned_at as detected_at
    from orders
    inner join shipments on orders.shipment_id = shipments.shipment_id
    where shipments.first_returned_at is not null
)

select * from final
