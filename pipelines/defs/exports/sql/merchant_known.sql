-- Whether a merchant appears anywhere in the marts, and its latest name.
with weekly_kpis as (
    select * from read_parquet($rpt_weekly_kpis)
),

order_exceptions as (
    select * from read_parquet($fct_order_exceptions)
),

known as (
    select merchant_id, null::varchar as merchant_name, null::timestamp as placed_at,
    from weekly_kpis
    where merchant_id = $merchant_id
    union all
    select merchant_id, merchant_name, placed_at,
    from order_exceptions
    where merchant_id = $merchant_id
),

final as (
    select
        merchant_id,
        arg_max(merchant_name, placed_at) as merchant_name,
    from known
    group by merchant_id
)

select * from final
