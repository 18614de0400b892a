{{ config(materialized='incremental', incremental_strategy='rebuild_orders',
          meta={'rebuild_scope': 'exceptions'}) }}
-- depends_on: {{ ref('int_exceptions__rebuild_scope') }}
with

order_events as (
    select * from {{ ref('stg_orders__order_events') }}
    where {{ in_rebuild_scope('order_id') }}
),

exceptions as (
    select * from {{ ref('int_exceptions_unioned') }}
    where {{ in_rebuild_scope('order_id') }}
),

handling_log as (
    select * from {{ ref('stg_feedback__handling_log') }}
    where {{ in_rebuild_scope('order_id') }}
),

shipments as (
    select * from {{ ref('stg_logistics__shipments') }}
    where {{ in_rebuild_scope('order_id') }}
),

tracking_events as (
    select * from {{ ref('stg_logistics__tracking_events') }}
),

tickets as (
    select * from {{ ref('stg_feedback__tickets') }}
    where {{ in_rebuild_scope('order_id') }}
),

unioned as (
    select
        order_id,
        event_at as occurred_at,
        'order' as source,  -- noqa: RF04
        event_type,
        detail
    from order_events
    union all
    select
        order_id,
        detected_at as occurred_at,
        'exception' as source,  -- noqa: RF04
        exception_type as event_type,
        sku as detail
    from exceptions
    union all
    select
        order_id,
        action_at as occurred_at,
        'handling' as source,  -- noqa: RF04
        action as event_type,
        {{ dbt.concat(["exception_type", "': '", "coalesce(team, '')", "' '", "coalesce(resolution, '')"]) }}
            as detail
    from handling_log
    union all
    select
        shipments.order_id,
        tracking_events.event_at as occurred_at,
        'tracking' as source,  -- noqa: RF04
        tracking_events.event_type,
        tracking_events.location as detail
    from tracking_events
    inner join shipments on tracking_events.tracking_number = shipments.tracking_number
    union all
    select
        order_id,
        opened_at as occurred_at,
        'feedback' as source,  -- noqa: RF04
        category as event_type,
        content as detail
    from tickets
),

final as (
    select * from unioned
)

select * from final
