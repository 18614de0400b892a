with

exceptions as (
    select * from {{ ref('int_exceptions__handling') }}
),

recurrence as (
    select * from {{ ref('int_exceptions__recurrence') }}
),

orders as (
    select * from {{ ref('int_orders__context') }}
),

final as (
    select
        exceptions.exception_id,
        exceptions.order_id,
        orders.merchant_id,
        orders.merchant_name,
        orders.warehouse_id,
        orders.channel,
        orders.carrier,
        orders.province,
        exceptions.sku,
        exceptions.family,
        exceptions.exception_type,
        exceptions.priority,
        exceptions.owner_team,
        orders.placed_at,
        orders.week,
        exceptions.detected_at,
        exceptions.first_response_at,
        exceptions.resolved_at,
        exceptions.resolution,
        exceptions.handling_hours,
        exceptions.sla_hours,
        exceptions.is_within_sla,
        exceptions.is_open,
        exceptions.is_overdue,
        exceptions.root_cause,
        exceptions.suggested_action,
        recurrence.recurrence_key,
        recurrence.is_recurrence,
        exceptions.is_success
    from exceptions
    inner join orders on exceptions.order_id = orders.order_id
    inner join recurrence on exceptions.exception_id = recurrence.exception_id
)

select * from final
