{#- Merchant-specific rule: only merchants listed with it in seed merchant_custom_rules. -#}
with

orders as (
    select * from {{ ref('int_orders__context') }}
),

order_lines as (
    select * from {{ ref('int_order_lines__stock') }}
),

custom_rules as (
    select * from {{ ref('merchant_custom_rules') }}
),

line_mix as (
    select
        order_id,
        max(case when is_presale then 1 else 0 end) as has_presale_line,
        max(case when is_presale then 0 else 1 end) as has_in_stock_line
    from order_lines
    group by order_id
),

final as (
    select
        orders.order_id,
        'presale_mixed' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        orders.placed_at as detected_at
    from orders
    inner join line_mix on orders.order_id = line_mix.order_id
    inner join custom_rules
        on
            orders.merchant_id = custom_rules.merchant_id
            and custom_rules.exception_type = 'presale_mixed'
    where
        line_mix.has_presale_line = 1
        and line_mix.has_in_stock_line = 1
)

select * from final
