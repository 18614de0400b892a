-- The merchant's SKUs (per warehouse) whose stock runs out before replenishment can arrive,
-- most expected impact first: cover against lead time and the orders it would hit.
with stockout_risk as (
    select * from read_parquet($rpt_stockout_risk)
),

final as (
    select
        sku,
        warehouse_id,
        'out_of_stock' as risk_type,
        available,
        forecast_daily_demand,
        days_of_cover,
        lead_time_days,
        expected_stockout_date,
        stockout_probability,
        open_orders,
        expected_orders,
        owner_team,
        expected_impact,
    from stockout_risk
    where merchant_id = $merchant_id
        and is_at_risk
)

select * from final
order by expected_impact desc, days_of_cover, sku, warehouse_id
limit $top
