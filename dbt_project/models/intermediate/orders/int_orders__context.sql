{{ config(materialized='incremental', incremental_strategy='rebuild_orders',
          meta={'rebuild_scope': 'orders'}) }}
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
        {{ value_at_latest('event_type', ['event_at', 'event_id']) }} as latest_event_type
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
        coalesce(event_times.latest_event_type, 'created') as order_status
    from orders
    left join first_shipment on orders.order_id = first_shipment.order_id
    left join event_times on orders.order_id = event_times.order_id
)

select * from final  -- noqa: AM04
