{#- One row per source (the profile that read an order's header), merchant and rule input:
    whether the source provides it. A profile's `inputs:` declaration decides where it says
    (raw.profile_inputs); otherwise the data does: an input counts as provided once at least one
    of the source's orders shows it (a phone, a warehouse receipt, an in-transit scan), or, for
    inputs that only ever show up when something goes wrong (a failed payment, a returned
    parcel, a complaint), once the source sends that log at all. The kind of evidence of each
    input is in seeds/exception_inputs.csv; a new input needs its line below. -#}
with

orders as (
    select * from {{ ref('int_orders__context') }}
),

shipments as (
    select * from {{ ref('int_shipments__tracking_summary') }}
),

order_lines as (
    select * from {{ ref('int_order_lines__stock') }}
),

tickets as (
    select * from {{ ref('stg_feedback__tickets') }}
),

inputs as (
    select * from {{ ref('exception_inputs') }}
),

declared as (
    select * from {{ source('ingestion', 'profile_inputs') }}
),

ingested_files as (
    select * from {{ source('ingestion', 'ingested_files') }}
),

-- the columns each profile's current order files leave empty for every row they make
order_files as (
    select
        profile as source_profile,
        coalesce(columns_not_provided, '') as columns_not_provided
    from ingested_files
    where table_name = 'orders' and status in ('loaded', 'replaced')
),

mapped as (
    select
        source_profile,
        max(case
            when
                columns_not_provided not like '%special_request%'
                or columns_not_provided not like '%designated_carrier%'
                or columns_not_provided not like '%is_expedited%'
                then 1
            else 0
        end) = 1 as special_requests
    from order_files
    group by source_profile
),

order_evidence as (
    select
        source_profile,
        merchant_id,
        max(case when first_paid_event_at is not null or paid_at is not null then 1 else 0 end) = 1
            as payment_events,
        max(case when status_events > 0 then 1 else 0 end) = 1 as status_log,
        max(case when paid_amount is not null then 1 else 0 end) = 1 as paid_amount,
        max(case when receiver_name is not null then 1 else 0 end) = 1 as receiver_name,
        max(case when receiver_phone is not null then 1 else 0 end) = 1 as receiver_phone,
        max(case when province is not null then 1 else 0 end) = 1 as receiver_region,
        max(case when address is not null then 1 else 0 end) = 1 as street_address,
        max(case when weight_kg is not null then 1 else 0 end) = 1 as parcel_weight,
        max(case when first_wms_received_at is not null then 1 else 0 end) = 1 as warehouse_receipts,
        max(case when shipment_id is not null then 1 else 0 end) = 1 as shipments
    from orders
    group by source_profile, merchant_id
),

shipment_evidence as (
    select
        orders.source_profile,
        orders.merchant_id,
        max(case when shipments.first_handed_to_carrier_at is not null then 1 else 0 end) = 1
            as handoff_scans,
        max(case when shipments.first_delivered_at is not null then 1 else 0 end) = 1
            as delivery_scans,
        max(case when shipments.first_intermediate_scan_at is not null then 1 else 0 end) = 1
            as intermediate_scans,
        max(case when shipments.tracking_events > 0 then 1 else 0 end) = 1 as tracking_log
    from shipments
    inner join orders on shipments.order_id = orders.order_id
    group by orders.source_profile, orders.merchant_id
),

line_evidence as (
    select
        orders.source_profile,
        orders.merchant_id,
        true as order_lines,
        max(case when order_lines.is_known_product then 1 else 0 end) = 1 as sku_master,
        max(case when order_lines.available is not null then 1 else 0 end) = 1 as stock_counts,
        max(case when order_lines.platform_available is not null then 1 else 0 end) = 1
            as platform_stock
    from order_lines
    inner join orders on order_lines.order_id = orders.order_id
    group by orders.source_profile, orders.merchant_id
),

ticket_evidence as (
    select distinct
        orders.source_profile,
        orders.merchant_id,
        true as tickets
    from tickets
    inner join orders on tickets.order_id = orders.order_id
),

sources as (
    select
        order_evidence.*,
        coalesce(shipment_evidence.handoff_scans, false) as handoff_scans,
        coalesce(shipment_evidence.delivery_scans, false) as delivery_scans,
        coalesce(shipment_evidence.intermediate_scans, false) as intermediate_scans,
        coalesce(shipment_evidence.tracking_log, false) as tracking_log,
        coalesce(line_evidence.order_lines, false) as order_lines,
        coalesce(line_evidence.sku_master, false) as sku_master,
        coalesce(line_evidence.stock_counts, false) as stock_counts,
        coalesce(line_evidence.platform_stock, false) as platform_stock,
        coalesce(ticket_evidence.tickets, false) as tickets,
        coalesce(mapped.special_requests, false) as special_requests
    from order_evidence
    left join shipment_evidence
        on
            order_evidence.source_profile = shipment_evidence.source_profile
            and order_evidence.merchant_id = shipment_evidence.merchant_id
    left join line_evidence
        on
            order_evidence.source_profile = line_evidence.source_profile
            and order_evidence.merchant_id = line_evidence.merchant_id
    left join ticket_evidence
        on
            order_evidence.source_profile = ticket_evidence.source_profile
            and order_evidence.merchant_id = ticket_evidence.merchant_id
    left join mapped on order_evidence.source_profile = mapped.source_profile
),

observed as (
    select
        sources.source_profile,
        sources.merchant_id,
        inputs.input,
        case inputs.input
            when 'payment_events' then sources.payment_events
            when 'payment_failures' then sources.status_log
            when 'paid_amount' then sources.paid_amount
            when 'refund_requests' then sources.status_log
            when 'receiver_name' then sources.receiver_name
            when 'receiver_phone' then sources.receiver_phone
            when 'receiver_region' then sources.receiver_region
            when 'street_address' then sources.street_address
            when 'parcel_weight' then sources.parcel_weight
            when 'special_requests' then sources.special_requests
            when 'order_lines' then sources.order_lines
            when 'sku_master' then sources.sku_master
            when 'stock_out_events' then sources.status_log
            when 'stock_counts' then sources.stock_counts
            when 'platform_stock' then sources.platform_stock
            when 'shipments' then sources.shipments
            when 'handoff_scans' then sources.handoff_scans
            when 'delivery_scans' then sources.delivery_scans
            when 'intermediate_scans' then sources.intermediate_scans
            when 'return_scans' then sources.tracking_log
            when 'feedback_categories' then sources.tickets
            when 'warehouse_receipts' then sources.warehouse_receipts
        end as is_observed
    from sources
    cross join inputs
),

final as (
    select
        observed.source_profile,
        observed.merchant_id,
        observed.input,
        coalesce(declared.is_provided, observed.is_observed, false) as is_provided,
        case
            when declared.is_provided then 'declared by the profile'
            when declared.is_provided is not null then 'declared missing by the profile'
            when observed.is_observed then 'seen in the data'
            else 'not in the data'
        end as evidence
    from observed
    left join declared
        on
            observed.source_profile = declared.profile
            and observed.input = declared.input
)

select * from final
