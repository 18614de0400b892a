-- The sub-types that could not judge every one of the merchant's orders of the week: their
-- source does not provide what the rule needs (no warehouse system, anonymised customers).
with coverage as (
    select * from read_parquet($rpt_exception_coverage)
),

exception_types as (
    select * from read_parquet($dim_exception_types)
),

per_type as (
    select
        exception_type,
        sum(orders) as orders,
        sum(orders_assessed) as orders_assessed,
    from coverage
    where merchant_id = $merchant_id
        and week = $week
    group by exception_type
),

final as (
    select
        per_type.exception_type,
        exception_types.family,
        per_type.orders,
        per_type.orders_assessed,
        per_type.orders_assessed / nullif(per_type.orders, 0) as assessed_share,
    from per_type
    left join exception_types using (exception_type)
    where per_type.orders_assessed < per_type.orders
)

select * from final
order by assessed_share, exception_type
