-- Assert that, per week, family and dimension, the values' changes add up to the family's change.
with

per_dimension as (
    select
        week,
        family,
        dimension,
        sum(change) as change  -- noqa: RF04
    from {{ ref('rpt_exception_attribution') }}
    group by week, family, dimension
)

select
    week,
    family
from per_dimension
group by week, family
having min(change) <> max(change)
