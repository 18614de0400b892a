with

source as (
    {{ latest_arrival(source('feedback', 'handling_log'), ['action_id']) }}
),

final as (
    select
        trim(action_id) as action_id,
        trim(order_id) as order_id,
        trim(exception_type) as exception_type,
        trim(action) as action,  -- noqa: RF04
        action_at,
        {{ clean_text('team') }} as team,
        {{ clean_text('handler') }} as handler,  -- noqa: RF04
        {{ clean_text('resolution') }} as resolution,
        _source_file as source_file
    from source
)

select * from final
