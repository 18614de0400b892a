-- One row per (week, family) for one merchant, for this week and last week.
with order_exceptions as (
    select * from read_parquet($fct_order_exceptions)
),

final as (
    select
        week,
        family,
        count(*) as exceptions,
    from order_exceptions
    where merchant_id = $merchant_id
        and week in ($week, $last_week)
    group by week, family
)

select * from final
order by family, week
