{{ config(materialized='incremental', incremental_strategy='rebuild_orders',
          meta={'rebuild_scope': 'orders'}) }}
-- depends_on: {{ ref('int_orders__rebuild_scope') }}
with

shipments as (
    select * from {{ ref('stg_logistics__shipments') }}
    where {{ in_rebuild_scope('order_id') }}
),

tracking_events as (
    select tracking_events.*
    from {{ ref('stg_logistics__tracking_events') }} as tracking_events
    {% if is_incremental() -%}
        semi join shipments on tracking_events.tracking_number = shipments.tracking_number
    {%- endif %}
),

event_times as (
    select
        tracking_number,
        min(case when event_type = 'handed_to_carrier' then event_at end) as first_handed_to_carrier_at,
        min(case when event_type = 'delivered' then event_at end) as first_delivered_at,
        min(case when event_type = 'rejected' then event_at end) as first_rejected_at,
        min(case when event_type = 'returned' then event_at end) as first_returned_at,
        min(case when event_type in ('lost', 'damaged') then event_at end) as first_lost_or_damaged_at,
        min(case when is_terminal then event_at end) as first_terminal_at,
        min(case when event_type in ('in_transit', 'out_for_delivery') then event_at end)
            as first_intermediate_scan_at,
        max(event_at) as last_event_at,
        count(*) as tracking_events
    from tracking_events
    group by tracking_number
),

final as (
    select
        shipments.shipment_id,
        shipments.order_id,
        shipments.carrier,
        shipments.tracking_number,
        shipments.created_at,
        shipments.ship_by_at,
        shipments.promised_delivery_at,
        event_times.first_handed_to_carrier_at,
        event_times.first_delivered_at,
        event_times.first_rejected_at,
        event_times.first_returned_at,
        event_times.first_lost_or_damaged_at,
        event_times.first_terminal_at,
        event_times.first_intermediate_scan_at,
        event_times.last_event_at,
        coalesce(event_times.tracking_events, 0) as tracking_events
    from shipments
    left join event_times on shipments.tracking_number = event_times.tracking_number
)

select * from final
