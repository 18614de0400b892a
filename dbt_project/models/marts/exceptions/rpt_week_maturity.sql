{#- Whether each review week is complete yet. Logistics and fulfilment failures become visible
    days after the order, so the latest week always looks better than it will: a week is mature
    for a family once its last day is the family's observation window behind as_of, and mature
    (family 'all') once every failure family is. expected_share_visible is the share of the
    week's failures that should be visible by now, from how soon each family's failures appeared
    in the past (its visibility curve), at the age of each day's orders. -#}
with

orders as (
    select * from {{ ref('int_orders__context') }}
),

run as (
    select as_of from {{ ref('int_run_as_of') }}
),

windows as (
    select * from {{ ref('int_families__observation_windows') }}
    where kind = 'failure'
),

visibility as (
    select * from {{ ref('int_families__visibility') }}
),

weeks as (
    select
        week,
        min(week_start) as week_start
    from orders
    group by week
),

-- the week's orders by day, each day at its noon's age: how much of a day's failures can be
-- visible depends on how old its orders are
days as (
    select
        week,
        placed_date,
        count(*) as orders
    from orders
    group by week, placed_date
),

day_ages as (
    select
        days.week,
        days.placed_date,
        days.orders,
        {{ elapsed_hours(
            to_utc_time(dbt.dateadd('hour', 12, 'cast(days.placed_date as ' ~ dbt.type_timestamp() ~ ')')),
            'run.as_of') }} as age_hours
    from days
    cross join run
),

day_visible as (
    select
        day_ages.week,
        day_ages.placed_date,
        day_ages.orders,
        windows.family,
        case
            when windows.is_measured
                then coalesce(max(visibility.share_visible), 0)
            -- not measured yet: linear over the window
            else least(greatest(max(day_ages.age_hours) / (max(windows.observation_days) * 24 + 1), 0), 1)
        end as share_visible
    from day_ages
    cross join windows
    left join visibility
        on
            windows.family = visibility.family
            and day_ages.age_hours >= visibility.delay_hours
    group by day_ages.week, day_ages.placed_date, day_ages.orders, windows.family, windows.is_measured
),

week_visible as (
    select
        week,
        family,
        sum(share_visible * orders) / sum(orders) as share_visible
    from day_visible
    group by week, family
),

families as (
    select
        weeks.week,
        weeks.week_start,
        {{ to_utc_time(dbt.dateadd('day', 7, 'cast(weeks.week_start as ' ~ dbt.type_timestamp() ~ ')')) }}
            as week_end_at,
        windows.family,
        windows.observation_days,
        windows.exceptions_measured
    from weeks
    cross join windows
),

judged as (
    select
        families.week,
        families.week_start,
        families.week_end_at,
        families.family,
        families.observation_days,
        {{ add_seconds('families.week_end_at', 'families.observation_days * 86400') }} as matures_at,
        coalesce(week_visible.share_visible, 0) as share_visible,
        -- weight of the family in a week's failures, from the measured history
        greatest(families.exceptions_measured, 1) as weight
    from families
    left join week_visible
        on
            families.week = week_visible.week
            and families.family = week_visible.family
),

by_family as (
    select
        judged.week,
        judged.week_start,
        judged.week_end_at,
        judged.family,
        judged.observation_days,
        judged.matures_at,
        judged.weight,
        judged.matures_at <= run.as_of as is_mature,
        case when judged.matures_at <= run.as_of then 1.0 else judged.share_visible end
            as expected_share_visible
    from judged
    cross join run
),

whole_weeks as (
    select
        week,
        'all' as family,  -- noqa: RF04
        min(week_start) as week_start,
        min(week_end_at) as week_end_at,
        max(observation_days) as observation_days,
        max(matures_at) as matures_at,
        min(case when is_mature then 1 else 0 end) = 1 as is_mature,
        sum(expected_share_visible * weight) / sum(weight) as expected_share_visible
    from by_family
    group by week
),

all_rows as (
    select
        week,
        week_start,
        week_end_at,
        family,
        observation_days,
        matures_at,
        is_mature,
        expected_share_visible
    from by_family
    union all
    select
        week,
        week_start,
        week_end_at,
        family,
        observation_days,
        matures_at,
        is_mature,
        expected_share_visible
    from whole_weeks
),

final as (
    select
        all_rows.*,
        run.as_of
    from all_rows
    cross join run
)

select * from final
