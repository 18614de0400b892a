{#- The phone rule of the order's country (seeds/country_rules.csv, '*' for any other).
    Incremental: a verdict depends on the order's own row only, so a daily run judges the
    orders it rebuilds (a regular expression per order, the costliest rule at 10M orders). -#}
{{ config(materialized='incremental', incremental_strategy='rebuild_orders',
          meta={'rebuild_scope': 'orders'}) }}
-- depends_on: {{ ref('int_orders__rebuild_scope') }}
with

orders as (
    select * from {{ ref('int_orders__context') }}
    where {{ in_rebuild_scope('order_id') }}
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
