-- One merchant's special requests (work to do, not failures) of this week and last week.
with order_exceptions as (
    select * from read_parquet($fct_order_exceptions)
),

final as (
    select
        week,
        count(*) as special_requests,
    from order_exceptions
    where merchant_id = $merchant_id
        and week in ($week, $last_week)
        and kind = 'special_request'
    group by week
)

select * from final
