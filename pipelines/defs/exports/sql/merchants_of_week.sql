-- Merchants with orders or exceptions in the week, with the latest name seen for each.
with weekly_kpis as (
    select * from read_parquet($rpt_weekly_kpis)
),

order_exceptions as (
    select * from read_parquet($fct_order_exceptions)
),

merchants_in_week as (
    select merchant_id from weekly_kpis where week = $week
    union
    select merchant_id from order_exceptions where week = $week
),

latest_names as (
    select
        merchant_id,
        arg_max(merchant_name, placed_at) as merchant_name,
    from order_exceptions
    group by merchant_id
),

final as (
    select
        merchants_in_week.merchant_id,
        latest_names.merchant_name,
    from merchants_in_week
    left join latest_names using (merchant_id)
    where $merchant_id is null or merchants_in_week.merchant_id = $merchant_id
)

select * from final
order by merchant_id
