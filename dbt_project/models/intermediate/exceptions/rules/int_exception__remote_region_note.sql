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
        'remote_region_note' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        orders.placed_at as detected_at
    from orders
    inner join custom_rules
        on
            orders.merchant_id = custom_rules.merchant_id
            and custom_rules.exception_type = 'remote_region_note'
    where
        -- the order's list (seed rule_thresholds may give a merchant its own), else the var's
        {{ in_list('orders.province', 'orders.remote_provinces', var('remote_provinces')) }}
)

select * from final
