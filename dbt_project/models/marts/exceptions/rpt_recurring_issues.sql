with

exceptions as (
    select * from {{ ref('fct_order_exceptions') }}
),

exception_types as (
    select * from {{ ref('int_exception_types') }}
),

orders as (
    select * from {{ ref('stg_orders__orders') }}
),

keyed as (
    select
        exception_types.recurrence_key_type as key_type,
        exceptions.recurrence_key,
        -- what a person reads for the key: the address as typed on the order, not its
        -- matching form; a phone masked (the file goes to merchants); a route and a merchant
        -- by name
        case exception_types.recurrence_key_type
            when 'customer_phone' then {{ masked_phone('exceptions.recurrence_key') }}
            when 'address'
                then concat_ws(' ', orders.province, orders.city, orders.district, orders.address)
            when 'carrier_route' then exceptions.carrier || ' → ' || exceptions.province
            when 'merchant' then exceptions.merchant_name
            else exceptions.recurrence_key
        end as recurrence_label,
        exceptions.family,
        exceptions.exception_type,
        exceptions.merchant_id,
        exceptions.detected_at,
        exceptions.week,
        exceptions.is_recurrence
    from exceptions
    inner join exception_types on exceptions.exception_type = exception_types.exception_type
    left join orders on exceptions.order_id = orders.order_id
    where exceptions.recurrence_key is not null
),

recurring as (
    select
        key_type,
        recurrence_key,
        family,
        exception_type,
        merchant_id,
        max_by(recurrence_label, detected_at) as recurrence_label,
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
),

final as (
    select
        key_type,
        recurrence_key,
        recurrence_label,
        family,
        exception_type,
        merchant_id,
        occurrences,
        first_detected_at,
        last_detected_at,
        last_week
    from recurring
)

select * from final
