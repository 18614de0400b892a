{#- Merchant-specific rule: only merchants listed with it in seed merchant_custom_rules. -#}
with

orders as (
    select * from {{ ref('int_orders__context') }}
),

custom_rules as (
    select * from {{ ref('merchant_custom_rules') }}
),

final as (
    select
        orders.order_id,
        'heavy_parcel' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        orders.placed_at as detected_at
    from orders
    inner join custom_rules
        on
            orders.merchant_id = custom_rules.merchant_id
            and custom_rules.exception_type = 'heavy_parcel'
    where orders.weight_kg > {{ threshold('orders', 'heavy_parcel_kg') }}
)

select * from final
