{#- The orders whose exception rows an incremental run rebuilds (see macros/incremental.sql):
    the orders of int_orders__rebuild_scope, plus every order whose exceptions the rules
    (always built in full, so absence rules are judged against this run's as_of and
    duplicate_order sees every order) now find different from the previous build, plus every
    order with an exception still open (is_overdue moves with as_of). -#}
{%- set previous = previous_build_of('int_exceptions__handling') %}
{#- what makes an exception the same one in both builds -#}
{%- set version_columns = ['exception_id', 'order_id', 'exception_type', 'family', 'sku', 'detected_at'] %}

with

touched_orders as (
    select order_id from {{ ref('int_orders__rebuild_scope') }}
),

-- read in the incremental branch only
exceptions as (  -- noqa: ST03
    select * from {{ ref('int_exceptions_unioned') }}
),

{% if previous is not none %}
    previous_exceptions as (
        select * from {{ previous }}
    ),

    current_versions as (
        select {{ version_columns | join(', ') }}
        from exceptions
    ),

    previous_versions as (
        select {{ version_columns | join(', ') }}
        from previous_exceptions
    ),

    -- new, changed (detected at another time, another SKU) and vanished exceptions
    changed as (
        (
            select * from current_versions
            except
            select * from previous_versions
        )
        union all
        (
            select * from previous_versions
            except
            select * from current_versions
        )
    ),

    still_open as (
        select order_id from previous_exceptions
        where is_open
    ),

    scope as (
        select order_id from touched_orders
        union
        select order_id from changed
        union
        select order_id from still_open
    ),
{% else %}
    scope as (
        select order_id from touched_orders
    ),
{% endif %}

final as (
    select distinct order_id
    from scope
)

select * from final
