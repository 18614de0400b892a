with

exception_types as (
    select * from {{ ref('int_exception_types') }}
),

final as (
    select
        exception_type,
        family,
        priority,
        sla_hours,
        owner_team,
        handling_guideline,
        root_cause,
        suggested_action
    from exception_types
)

select * from final
