-- Assert that the sub-type shares of each week's failures add up to 1 (special requests have
-- no share: they are not things that went wrong).
select
    week,
    sum(type_share) as total_share
from {{ ref('rpt_weekly_exception_summary') }}
where kind = 'failure'
group by week
having abs(sum(type_share) - 1) > 0.000001
