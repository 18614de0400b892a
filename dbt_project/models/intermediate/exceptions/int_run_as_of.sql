{#- "Now" for rules that fire on absence (no payment, no handoff, no delivery): the latest
    event time anywhere in the raw data, unless var as_of pins it. -#}
{#- pinned: max() of the constant keeps this one row -#}
{%- set as_of_expression = "max(cast('" ~ var('as_of') ~ "' as " ~ dbt.type_timestamp() ~ "))"
    if var('as_of', none) else "max(latest_at)" %}

with

event_times as (
    select max(placed_at) as latest_at from {{ ref('stg_orders__orders') }}
    union all
    select max(event_at) from {{ ref('stg_orders__order_events') }}
    union all
    select max(created_at) from {{ ref('stg_logistics__shipments') }}
    union all
    select max(event_at) from {{ ref('stg_logistics__tracking_events') }}
    union all
    select max(opened_at) from {{ ref('stg_feedback__tickets') }}
    union all
    select max(action_at) from {{ ref('stg_feedback__handling_log') }}
),

final as (
    select {{ as_of_expression }} as as_of
    from event_times
)

select * from final
