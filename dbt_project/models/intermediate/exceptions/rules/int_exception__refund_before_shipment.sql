with

order_events as (
    select * from {{ ref('stg_orders__order_events') }}
),

refund_requests as (
    select * from order_events
    where event_type = 'refund_requested'
),

shipped as (
    select
        order_id,
        min(event_at) as first_shipped_at
    from order_events
    where event_type = 'shipped'
    group by order_id
),

final as (
    select
        refund_requests.order_id,
        'refund_before_shipment' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        min(refund_requests.event_at) as detected_at
    from refund_requests
    left join shipped on refund_requests.order_id = shipped.order_id
    -- a refund asked for after the parcel left is a return, not this exception
    where
        shipped.first_shipped_at is null
        or shipped.first_shipped_at >= refund_requests.event_at
    group by refund_requests.order_id
)

select * from final
