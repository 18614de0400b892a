with

order_events as (
    select * from {{ ref('stg_orders__order_events') }}
),

final as (
    select
        order_id,
        'out_of_stock' as exception_type,
        detail as sku,
        event_at as detected_at
    from order_events
    where event_type = 'stock_out'
    qualify row_number() over (partition by order_id order by event_at, event_id) = 1
)

select * from final
