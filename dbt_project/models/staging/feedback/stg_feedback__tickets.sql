with

source as (
    {{ latest_arrival(source('feedback', 'tickets'), ['ticket_id']) }}
),

final as (
    select
        trim(ticket_id) as ticket_id,
        trim(order_id) as order_id,
        trim(channel) as channel,
        trim(category) as category,
        rating,
        {{ clean_text('content') }} as content,  -- noqa: RF04
        opened_at,
        resolved_at,
        _source_file as source_file
    from source
)

select * from final
