with

exception_types as (
    select * from {{ ref('int_exception_types') }}
),

final as (
    select
        exception_type,
        family,
        kind,
        priority,
        sla_hours,
        sla_measures,
        owner_team,
        handling_guideline,
        root_cause,
        root_cause_owner_team,
        suggested_action,
        recurrence_key_type,
        inputs,
        explained_by
    from exception_types
)

select * from final
