with

changes as (
    select * from {{ ref('int_exceptions__weekly_changes') }}
),

final as (
    select
        week,
        group_value as family,  -- noqa: RF04
        dimension,
        dimension_value,
        exceptions,
        exceptions_last_week,
        change,
        contribution_share,
        cast(contribution_rank as bigint) as rank  -- Spark ranks as int, DuckDB as bigint
    from changes
    where group_type = 'family'
)

select * from final
