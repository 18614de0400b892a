with

source as (
    {{ latest_arrival(source('logistics', 'shipments'), ['shipment_id']) }}
),

final as (
    select  -- noqa: ST06
        trim(shipment_id) as shipment_id,
        trim(order_id) as order_id,
        lower(trim(carrier)) as carrier,
        trim(tracking_number) as tracking_number,
        created_at,
        ship_by_at,
        promised_delivery_at,
        _source_file as source_file
    from source
)

select * from final
