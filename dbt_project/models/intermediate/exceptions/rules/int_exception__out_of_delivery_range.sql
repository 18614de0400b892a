with

orders as (
    select * from {{ ref('int_orders__context') }}
),

excluded_regions as (
    select * from {{ ref('carrier_excluded_regions') }}
),

final as (
    select
        orders.order_id,
        'out_of_delivery_range' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        orders.shipment_created_at as detected_at
    from orders
    inner join excluded_regions
        on
            orders.carrier = excluded_regions.carrier
            and orders.province = excluded_regions.province
    where true
)

select * from final
