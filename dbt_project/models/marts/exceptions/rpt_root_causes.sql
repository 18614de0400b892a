with

exceptions as (
    select * from {{ ref('fct_order_exceptions') }}
    where kind = 'failure'
),

root_causes as (
    select * from {{ ref('root_causes') }}
),

changes as (
    select * from {{ ref('int_exceptions__weekly_changes') }}
    where group_type = 'root_cause'
),

-- the failures of each root cause this week and last (a dimension may leave some out: a
-- payment failure has no carrier, so the counts come from the facts)
weekly_counts as (
    select
        week_start,
        {{ iso_week_label('week_start') }} as week,  -- noqa: RF04
        root_cause,
        count(*) as exceptions
    from (
        select
            {{ iso_week_start(local_date('placed_at')) }} as week_start,
            root_cause
        from exceptions
    ) as by_week
    group by week_start, root_cause
),

root_cause_weeks as (
    select
        this_week.week,
        this_week.root_cause,
        cast(this_week.exceptions as bigint) as exceptions,
        cast(coalesce(last_week.exceptions, 0) as bigint) as exceptions_last_week
    from weekly_counts as this_week
    left join weekly_counts as last_week
        on
            this_week.root_cause = last_week.root_cause
            and this_week.week_start = cast({{ dbt.dateadd('day', 7, 'last_week.week_start') }} as date)
),

week_totals as (
    select
        week,
        cast(sum(exceptions) as bigint) as week_exceptions
    from root_cause_weeks
    group by week
),

-- the dimension value that explains most of the change
top_driver as (
    select
        week,
        group_value as root_cause,
        dimension as top_dimension,
        dimension_value as top_dimension_value,
        contribution_share as top_contribution
    from changes
    qualify row_number() over (
        partition by week, group_value
        order by
            coalesce(contribution_share, 0) desc,
            abs(change) desc,
            -- on a tie the most actionable dimension wins
            case dimension
                when 'sku' then 1 when 'merchant' then 2 when 'carrier' then 3
                when 'province' then 4 when 'warehouse' then 5 else 6
            end,
            dimension_value
    ) = 1
),

-- each sub-type's exceptions per root cause and week (counted here, not in the window below:
-- Spark rejects an aggregate in a QUALIFY's ordering)
type_counts as (
    select
        week,
        root_cause,
        exception_type,
        suggested_action,
        count(*) as exceptions
    from exceptions
    group by week, root_cause, exception_type, suggested_action
),

-- the action of the sub-type that contributes most exceptions to the root cause this week
top_action as (
    select
        week,
        root_cause,
        suggested_action
    from type_counts
    qualify row_number() over (
        partition by week, root_cause order by exceptions desc, exception_type asc
    ) = 1
),

action_any_week as (
    select
        root_cause,
        min(suggested_action) as suggested_action
    from exceptions
    group by root_cause
),

final as (
    select
        root_cause_weeks.week,
        root_cause_weeks.root_cause,
        root_cause_weeks.exceptions,
        case
            when week_totals.week_exceptions > 0
                then cast(root_cause_weeks.exceptions as {{ type_double() }}) / week_totals.week_exceptions
            else 0
        end as share,  -- noqa: RF04
        root_cause_weeks.exceptions_last_week,
        root_cause_weeks.exceptions - root_cause_weeks.exceptions_last_week as change_vs_last_week,
        root_causes.owner_team,
        top_driver.top_dimension,
        top_driver.top_dimension_value,
        top_driver.top_contribution,
        coalesce(top_action.suggested_action, action_any_week.suggested_action) as suggested_action
    from root_cause_weeks
    inner join week_totals on root_cause_weeks.week = week_totals.week
    left join top_driver
        on
            root_cause_weeks.week = top_driver.week
            and root_cause_weeks.root_cause = top_driver.root_cause
    left join top_action
        on
            root_cause_weeks.week = top_action.week
            and root_cause_weeks.root_cause = top_action.root_cause
    left join action_any_week on root_cause_weeks.root_cause = action_any_week.root_cause
    left join root_causes on root_cause_weeks.root_cause = root_causes.root_cause
)

select * from final
