with

order_lines as (
    select * from {{ ref('int_order_lines__stock') }}
),

final as (
    select
        order_id,
        'stock_mismatch' as exception_type,
        min(sku) as sku,
        min(placed_at) as detected_at
    from order_lines
    where
        platform_available is not null
        and abs(platform_available - available) > {{ threshold(none, 'stock_mismatch_tolerance') }}
    group by order_id
)

select * from final
