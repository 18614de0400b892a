{#- The phone rule of the order's country (seeds/country_rules.csv, '*' for any other). -#}
with

orders as (
    select * from {{ ref('int_orders__context') }}
),

country_rules as (
    select * from {{ ref('country_rules') }}
),

phone_patterns as (
    select
        orders.order_id,
        orders.placed_at,
        orders.receiver_phone,
        -- people write +86 138-1234-5678 or (11) 98765-4321: the separators are not the number
        {{ regex_replace_all('orders.receiver_phone', '[ ().-]', '') }} as phone_digits,
        {{ country_rule('phone_pattern') }} as phone_pattern
    from orders
    {{ join_country_rules() }}
),

final as (
    select
        order_id,
        'phone_invalid' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        placed_at as detected_at
    from phone_patterns
    where
        {{ is_blank('receiver_phone') }}
        or not {{ regex_matches_pattern('phone_digits', 'phone_pattern') }}
)

select * from final
