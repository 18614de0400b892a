{#- The product exists but not in this size or colour. -#}
with

order_lines as (
    select * from {{ ref('int_order_lines__stock') }}
),

final as (
    select
        order_id,
        'variant_unavailable' as exception_type,
        min(sku) as sku,
        min(placed_at) as detected_at
    from order_lines
    where not is_known_sku and is_known_product
    group by order_id
)

select * from final
