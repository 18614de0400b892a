with

exceptions as (
    select * from {{ ref('fct_order_exceptions') }}
),

exception_types as (
    select * from {{ ref('int_exception_types') }}
),

keyed as (
    select
        exception_types.recurrence_key_type as key_type,
        exceptions.recurrence_key,
        exceptions.family,
        exceptions.exception_type,
        exceptions.merchant_id,
        exceptions.detected_at,
        exceptions.week,
        exceptions.is_recurrence
    from exceptions
    inner join exception_types on exceptions.exception_type = exception_types.exception_type
    where exceptions.recurrence_key is not null
),

final as (
    select
        key_type,
        recurrence_key,
        family,
        exception_type,
        merchant_id,
        count(*) as occurrences,
        min(detected_at) as first_detected_at,
        max(detected_at) as last_detected_at,
        max(week) as last_week
    from keyed
    group by key_type, recurrence_key, family, exception_type, merchant_id
    -- recurring for this merchant: seen at least twice here, and back within the window at
    -- least once (keys such as a carrier route can also recur across merchants in the fact)
    having
        count(*) >= 2
        and sum(case when is_recurrence then 1 else 0 end) > 0
)

select * from final
