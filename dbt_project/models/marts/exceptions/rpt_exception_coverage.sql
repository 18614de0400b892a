{#- The share of each week's orders every sub-type could judge: an order whose source does not
    provide what a rule needs (no warehouse system, anonymised customers, two scans per parcel)
    is not assessed by it, and shown apart rather than counted as fine. -#}
with

orders as (
    select * from {{ ref('fct_orders') }}
),

coverage as (
    select * from {{ ref('int_sources__rule_coverage') }}
),

orders_per_source as (
    select
        week,
        merchant_id,
        warehouse_id,
        channel,
        source_profile,
        count(*) as orders
    from orders
    group by week, merchant_id, warehouse_id, channel, source_profile
),

final as (
    select
        orders_per_source.week,
        orders_per_source.merchant_id,
        orders_per_source.warehouse_id,
        orders_per_source.channel,
        coverage.exception_type,
        cast(sum(orders_per_source.orders) as bigint) as orders,
        cast(sum(case when coverage.is_assessed then orders_per_source.orders else 0 end) as bigint)
            as orders_assessed
    from orders_per_source
    inner join coverage
        on
            orders_per_source.source_profile = coverage.source_profile
            and orders_per_source.merchant_id = coverage.merchant_id
    group by
        orders_per_source.week,
        orders_per_source.merchant_id,
        orders_per_source.warehouse_id,
        orders_per_source.channel,
        coverage.exception_type
)

select * from final
