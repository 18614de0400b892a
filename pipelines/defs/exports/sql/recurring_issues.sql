-- One row per recurring issue of one merchant that struck again in the last four weeks.
with recurring_issues as (
    select * from read_parquet($rpt_recurring_issues)
),

final as (
    select
        key_type,
        recurrence_key,
        recurrence_label,
        family,
        exception_type,
        occurrences,
        first_detected_at,
        last_detected_at,
        last_week,
    from recurring_issues
    where merchant_id = $merchant_id
        and last_week between $first_week and $week
)

select * from final
order by occurrences desc, last_detected_at desc, key_type, recurrence_key, exception_type
