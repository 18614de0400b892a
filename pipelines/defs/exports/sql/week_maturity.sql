-- Each week's maturity for the whole review (family 'all'): whether its failures have all had
-- time to appear, the share expected to be visible, and as_of.
with maturity as (
    select * from read_parquet($rpt_week_maturity)
),

final as (
    select week, is_mature, expected_share_visible, as_of,
    from maturity
    where family = 'all'
)

select * from final
