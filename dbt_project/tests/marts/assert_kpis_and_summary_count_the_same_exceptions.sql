-- Assert that the weekly KPIs and the weekly summary count the same exceptions per week.
with

kpis as (
    select
        week,
        sum(exceptions) as exceptions
    from {{ ref('rpt_weekly_kpis') }}
    group by week
),

summary as (
    select
        week,
        sum(exceptions) as exceptions
    from {{ ref('rpt_weekly_exception_summary') }}
    group by week
)

select
    kpis.week,
    kpis.exceptions,
    summary.exceptions as summary_exceptions
from kpis
left join summary on kpis.week = summary.week
where coalesce(summary.exceptions, 0) <> kpis.exceptions
