{{ config(materialized='incremental', incremental_strategy='rebuild_orders',
          meta={'rebuild_scope': 'exceptions'}) }}
-- depends_on: {{ ref('int_exceptions__rebuild_scope') }}
with

recurrence as (
    select * from {{ ref('int_exceptions__recurrence') }}
),

{% if is_incremental() %}
    -- recurrence links an exception to other orders' exceptions: an exception that arrived
    -- late can make a later one (of an order not rebuilt otherwise) a recurrence, or not
    recurrence_changed as (
        select previous.order_id
        from {{ this }} as previous
        inner join recurrence on previous.exception_id = recurrence.exception_id
        where
            previous.recurrence_key is distinct from recurrence.recurrence_key
            or previous.is_recurrence is distinct from recurrence.is_recurrence
    ),
{% endif %}

-- noqa: disable=LT02
exceptions as (
    select * from {{ ref('int_exceptions__handling') }} as handling  -- noqa: AL05
    where
        {{ in_rebuild_scope('handling.order_id') }}
        {% if is_incremental() -%}
            or handling.order_id in (select recurrence_changed.order_id from recurrence_changed)
        {%- endif %}
),
-- noqa: enable=LT02

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
        orders.payment_method,
        orders.source_profile,
        exceptions.sku,
        exceptions.family,
        exceptions.kind,
        exceptions.exception_type,
        exceptions.priority,
        exceptions.owner_team,
        orders.placed_at,
        orders.week,
        exceptions.detected_at,
        exceptions.first_response_at,
        exceptions.resolved_at,
        exceptions.resolution,
        exceptions.response_hours,
        exceptions.handling_hours,
        exceptions.sla_hours,
        exceptions.is_within_sla,
        exceptions.is_open,
        exceptions.is_overdue,
        exceptions.root_cause,
        exceptions.root_cause_owner_team,
        exceptions.suggested_action,
        recurrence.recurrence_key,
        recurrence.is_recurrence,
        exceptions.is_success
    from exceptions
    inner join orders on exceptions.order_id = orders.order_id
    inner join recurrence on exceptions.exception_id = recurrence.exception_id
)

select * from final
