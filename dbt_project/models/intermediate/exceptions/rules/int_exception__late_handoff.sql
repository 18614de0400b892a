with

orders as (
    select * from {{ ref('int_orders__context') }}
),

shipments as (
    select * from {{ ref('int_shipments__tracking_summary') }}
),

run as (
    select as_of from {{ ref('int_run_as_of') }}
),

final as (
    select
        orders.order_id,
        'late_handoff' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        shipments.ship_by_at as detected_at
    from orders
    inner join shipments on orders.shipment_id = shipments.shipment_id
    cross join run
    where
        shipments.first_handed_to_carrier_at > shipments.ship_by_at
        or (shipments.first_handed_to_carrier_at is null and shipments.ship_by_at <= run.as_of)
)

select * from final
