with

source as (
    {{ latest_arrival(source('logistics', 'tracking_events'), ['event_id']) }}
),

final as (
    select
        trim(event_id) as event_id,
        trim(tracking_number) as tracking_number,
        trim(event_type) as event_type,
        event_at,
        {{ clean_text('location') }} as location,  -- noqa: RF04
        event_type in ('delivered', 'rejected', 'returned', 'lost', 'damaged') as is_terminal,
        _source_file as source_file
    from source
)

select * from final
