{{ config(materialized='incremental', incremental_strategy='rebuild_orders',
          meta={'rebuild_scope': 'orders'}) }}
{%- set numeric_thresholds = [
    'payment_timeout_minutes', 'sync_delay_minutes', 'missing_in_wms_hours', 'tracking_stall_hours',
    'safety_stock_margin', 'stock_mismatch_tolerance', 'heavy_parcel_kg', 'recurrence_window_days'] %}
-- depends_on: {{ ref('int_orders__rebuild_scope') }}
with

orders as (
    select * from {{ ref('stg_orders__orders') }}
    where {{ in_rebuild_scope('order_id') }}
),

order_events as (
    select * from {{ ref('stg_orders__order_events') }}
    where {{ in_rebuild_scope('order_id') }}
),

shipments as (
    select * from {{ ref('stg_logistics__shipments') }}
    where {{ in_rebuild_scope('order_id') }}
),

ingested_files as (
    select * from {{ source('ingestion', 'ingested_files') }}
),

rule_thresholds as (
    select * from {{ ref('rule_thresholds') }}
),

-- the source of an order is the profile that read the file its header came from
order_sources as (
    select
        source_file,
        {{ value_at_latest('profile', ['ingested_at']) }} as source_profile
    from ingested_files
    where table_name = 'orders' and status in ('loaded', 'replaced')
    group by source_file
),

-- thresholds overridden for some merchants, payment methods, channels or countries (seed
-- rule_thresholds); the most specific override wins
threshold_overrides as (
    select
        orders.order_id,
        rule_thresholds.threshold,
        {{ value_at_latest('rule_thresholds.value', [
            "case rule_thresholds.applies_to when 'merchant_id' then 4 when 'payment_method' then 3 "
            ~ "when 'channel' then 2 else 1 end"]) }} as threshold_value
    from orders
    inner join rule_thresholds
        on
            (orders.merchant_id = rule_thresholds.applies_to_value and rule_thresholds.applies_to = 'merchant_id')
            or (
                orders.payment_method = rule_thresholds.applies_to_value
                and rule_thresholds.applies_to = 'payment_method'
            )
            or (orders.channel = rule_thresholds.applies_to_value and rule_thresholds.applies_to = 'channel')
            or (orders.country = rule_thresholds.applies_to_value and rule_thresholds.applies_to = 'country')
    group by orders.order_id, rule_thresholds.threshold
),

order_thresholds as (
    select
        order_id,
        {%- for threshold in numeric_thresholds %}
            max(case when threshold = '{{ threshold }}' then cast(threshold_value as {{ type_double() }}) end)
                as {{ threshold }},
        {%- endfor %}
        max(case when threshold = 'remote_provinces' then threshold_value end) as remote_provinces
    from threshold_overrides
    group by order_id
),

-- an order ships as one parcel; if a carrier printed two waybills, the first one counts
first_shipment as (
    select *
    from shipments
    qualify row_number() over (partition by order_id order by created_at, shipment_id) = 1
),

-- one pass over the status log: the first time of each event the rules look at, and the
-- latest event (the order's status)
event_times as (
    select
        order_id,
        min(case when event_type = 'paid' then event_at end) as first_paid_event_at,
        min(case when event_type = 'payment_failed' then event_at end) as first_payment_failed_at,
        min(case when event_type = 'wms_received' then event_at end) as first_wms_received_at,
        min(case when event_type = 'cancelled' then event_at end) as first_cancelled_at,
        min(case when event_type = 'shipped' then event_at end) as first_shipped_at,
        min(case when event_type = 'stock_out' then event_at end) as first_stock_out_at,
        {{ value_at_latest('event_type', ['event_at', 'event_id']) }} as latest_event_type,
        count(*) as status_events
    from order_events
    group by order_id
),

final as (
    select
        orders.*,
        {{ local_date('orders.placed_at') }} as placed_date,
        {{ iso_week_label(local_date('orders.placed_at')) }} as week,  -- noqa: RF04
        {{ iso_week_start(local_date('orders.placed_at')) }} as week_start,
        first_shipment.shipment_id,
        first_shipment.carrier,
        first_shipment.tracking_number,
        first_shipment.created_at as shipment_created_at,
        first_shipment.ship_by_at,
        first_shipment.promised_delivery_at,
        event_times.first_paid_event_at,
        event_times.first_payment_failed_at,
        event_times.first_wms_received_at,
        event_times.first_cancelled_at,
        event_times.first_shipped_at,
        event_times.first_stock_out_at,
        coalesce(event_times.latest_event_type, 'created') as order_status,
        coalesce(event_times.status_events, 0) as status_events,
        coalesce(order_sources.source_profile, 'unknown') as source_profile,
        -- each threshold of the rules for this order: its override, else the var
        {%- for threshold in numeric_thresholds %}
            coalesce(order_thresholds.{{ threshold }}, cast({{ var(threshold) }} as {{ type_double() }}))
                as {{ threshold }},
        {%- endfor %}
        coalesce(order_thresholds.remote_provinces, {{ sql_string(var('remote_provinces') | join(';')) }})
            as remote_provinces
    from orders
    left join first_shipment on orders.order_id = first_shipment.order_id
    left join event_times on orders.order_id = event_times.order_id
    left join order_sources on orders.source_file = order_sources.source_file
    left join order_thresholds on orders.order_id = order_thresholds.order_id
)

select * from final  -- noqa: AM04
