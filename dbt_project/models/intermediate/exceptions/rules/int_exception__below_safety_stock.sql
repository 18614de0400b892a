with

order_lines as (
    select * from {{ ref('int_order_lines__stock') }}
),

final as (
    select
        order_id,
        'below_safety_stock' as exception_type,
        min(sku) as sku,
        min(placed_at) as detected_at
    from order_lines
    where
        available >= 0
        and available < safety_stock * (1 + {{ threshold(none, 'safety_stock_margin') }})
    group by order_id
)

select * from final
