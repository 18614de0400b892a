-- The merchant's open orders most likely to end late (late probability at least $threshold),
-- most expected impact first: what each is heading for and by when (what the merchant can do
-- is the action of that exception's cause, from the catalogue: the mart's own text is the
-- internal handling guideline).
with delivery_risk as (
    select * from read_parquet($rpt_delivery_risk)
),

final as (
    select
        order_id,
        placed_at,
        risk_type,
        stage,
        route,
        carrier,
        case
            when stage = 'awaiting_handoff' then ship_by_at
            else promised_delivery_at
        end as due_at,
        late_probability,
        owner_team,
        expected_impact,
    from delivery_risk
    where merchant_id = $merchant_id
        and late_probability >= $threshold
)

select * from final
order by expected_impact desc, late_probability desc, order_id
limit $top
