with

source as (
    {{ latest_arrival(source('orders', 'order_events'), ['event_id']) }}
),

final as (
    select
        trim(event_id) as event_id,
        trim(order_id) as order_id,
        trim(event_type) as event_type,
        event_at,
        {{ clean_text('detail') }} as detail,
        _source_file as source_file
    from source
)

select * from final
