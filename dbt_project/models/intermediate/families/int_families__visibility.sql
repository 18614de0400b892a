{#- How soon a family's failures become visible: for each whole number of hours after the order,
    the share of the family's failures detected by then. Measured on orders old enough that all
    their failures have appeared (placed at least observation_horizon_days before as_of). -#}
with

exceptions as (
    select * from {{ ref('fct_order_exceptions') }}
    where kind = 'failure'
),

run as (
    select as_of from {{ ref('int_run_as_of') }}
),

delays as (
    select
        exceptions.family,
        greatest(
            ceil({{ elapsed_hours('exceptions.placed_at', 'exceptions.detected_at') }}), 0
        ) as delay_hours
    from exceptions
    cross join run
    where
        {{ elapsed_seconds('exceptions.placed_at', 'run.as_of') }}
        >= {{ var('observation_horizon_days') }} * 86400
),

distribution as (
    select
        family,
        delay_hours,
        count(*) as exceptions
    from delays
    group by family, delay_hours
),

final as (
    select
        family,
        cast(delay_hours as bigint) as delay_hours,
        cast(sum(exceptions) over (partition by family) as bigint) as exceptions_measured,
        cast(
            sum(exceptions) over (
                partition by family order by delay_hours rows between unbounded preceding and current row
            ) as {{ type_double() }}
        ) / sum(exceptions) over (partition by family) as share_visible
    from distribution
)

select * from final
