-- Assert that the weekly KPIs and the weekly summary count the same failures and special
-- requests per week.
with

kpis as (
    select
        week,
        sum(exceptions) as exceptions,
        sum(special_requests) as special_requests
    from {{ ref('rpt_weekly_kpis') }}
    group by week
),

summary as (
    select
        week,
        sum(case when kind = 'failure' then exceptions else 0 end) as exceptions,
        sum(case when kind = 'special_request' then exceptions else 0 end) as special_requests
    from {{ ref('rpt_weekly_exception_summary') }}
    group by week
)

select
    kpis.week,
    kpis.exceptions,
    summary.exceptions as summary_exceptions
from kpis
left join summary on kpis.week = summary.week
where
    coalesce(summary.exceptions, 0) <> kpis.exceptions
    or coalesce(summary.special_requests, 0) <> kpis.special_requests
