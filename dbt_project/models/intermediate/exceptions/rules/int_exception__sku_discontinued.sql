with

order_lines as (
    select * from {{ ref('int_order_lines__stock') }}
),

final as (
    select
        order_id,
        'sku_discontinued' as exception_type,
        min(sku) as sku,
        min(placed_at) as detected_at
    from order_lines
    where sku_status = 'discontinued'
    group by order_id
)

select * from final
