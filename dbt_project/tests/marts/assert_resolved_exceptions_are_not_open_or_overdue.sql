-- Assert that an exception with a resolution is neither open nor overdue and has handling hours.
select *  -- noqa: AM04
from {{ ref('fct_order_exceptions') }}
where
    resolved_at is not null
    and (is_open or is_overdue or handling_hours is null or resolution is null)
