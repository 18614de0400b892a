with

order_lines as (
    select * from {{ ref('int_order_lines__stock') }}
),

final as (
    select
        order_id,
        'oversold' as exception_type,
        min(sku) as sku,
        min(placed_at) as detected_at
    from order_lines
    where available < 0
    group by order_id
)

select * from final
