{#- A parcel is stalled when the carrier reports nothing for longer than tracking_stall_hours
    before the parcel reached an end (delivered, rejected, returned, lost, damaged).
    Incremental: only a parcel still moving can become stalled as as_of advances, so a daily
    run judges the orders it rebuilds and those whose parcel has not reached an end (scope
    'open_parcels'), instead of ordering every scan of the history. -#}
{{ config(materialized='incremental', incremental_strategy='rebuild_orders',
          meta={'rebuild_scope': 'open_parcels'}) }}
-- depends_on: {{ ref('int_open_parcels__rebuild_scope') }}
with

orders as (
    select * from {{ ref('int_orders__context') }}
    where {{ in_rebuild_scope('order_id') }}
),

run as (
    select as_of from {{ ref('int_run_as_of') }}
),

tracking_events as (
    select tracking_events.*
    from {{ ref('stg_logistics__tracking_events') }} as tracking_events
    {% if is_incremental() -%}
        semi join orders on tracking_events.tracking_number = orders.tracking_number
    {%- endif %}
),

-- events up to and including the first terminal one; later scans do not un-stall a parcel
sequenced as (
    select
        tracking_number,
        event_at,
        is_terminal,
        lead(event_at) over (partition by tracking_number order by event_at, event_id) as next_event_at,
        sum(case when is_terminal then 1 else 0 end) over (
            partition by tracking_number order by event_at, event_id
            rows between unbounded preceding and 1 preceding
        ) as terminal_events_before
    from tracking_events
),

gaps as (
    select
        sequenced.tracking_number,
        sequenced.event_at,
        -- the last event so far waits until as_of
        coalesce(sequenced.next_event_at, run.as_of) as gap_end_at
    from sequenced
    cross join run
    where
        not sequenced.is_terminal
        and coalesce(sequenced.terminal_events_before, 0) = 0
),

-- the stall threshold of each parcel's order (a merchant or carrier may have its own)
parcel_thresholds as (
    select
        orders.tracking_number,
        {{ threshold('orders', 'tracking_stall_hours') }} * 3600 as stall_seconds
    from orders
    where orders.tracking_number is not null
),

stalls as (
    select
        gaps.tracking_number,
        min({{ add_seconds('gaps.event_at', 'parcel_thresholds.stall_seconds') }}) as stalled_at
    from gaps
    inner join parcel_thresholds on gaps.tracking_number = parcel_thresholds.tracking_number
    where {{ elapsed_seconds('gaps.event_at', 'gaps.gap_end_at') }} > parcel_thresholds.stall_seconds
    group by gaps.tracking_number
),

final as (
    select
        orders.order_id,
        'tracking_stalled' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        stalls.stalled_at as detected_at
    from orders
    inner join stalls on orders.tracking_number = stalls.tracking_number
)

select * from final
