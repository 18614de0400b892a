-- Assert that the sub-type shares of each week's exceptions add up to 1.
select
    week,
    sum(type_share) as total_share
from {{ ref('rpt_weekly_exception_summary') }}
group by week
having abs(sum(type_share) - 1) > 0.000001
