{#- Each failure family's observation window: how long after an order its failures can still
    appear, the delay by which 95 % of them are detected, measured from the data
    (int_families__visibility) when it holds at least min_exceptions_to_measure of them, else the
    catalogue's observation_days. A week is mature once its last day is that far behind. -#}
with

families as (
    select * from {{ ref('exception_families') }}
),

visibility as (
    select * from {{ ref('int_families__visibility') }}
),

measured as (
    select
        family,
        min(delay_hours) as p95_delay_hours,
        max(exceptions_measured) as exceptions_measured
    from visibility
    where share_visible >= 0.95
    group by family
),

final as (
    select
        families.family,
        families.kind,
        coalesce(measured.exceptions_measured, 0) as exceptions_measured,
        measured.p95_delay_hours,
        case
            when coalesce(measured.exceptions_measured, 0) >= {{ var('min_exceptions_to_measure') }}
                then measured.p95_delay_hours / 24.0
            else families.observation_days
        end as observation_days,
        coalesce(measured.exceptions_measured, 0) >= {{ var('min_exceptions_to_measure') }}
            as is_measured
    from families
    left join measured on families.family = measured.family
)

select * from final
