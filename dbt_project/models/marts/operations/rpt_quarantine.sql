with

quarantine as (
    select * from {{ source('ingestion', 'quarantine') }}
),

final as (
    select
        domain,
        table_name,
        source_file,
        line_number,
        column_name,
        reason,
        raw_record,
        file_hash,
        quarantined_at
    from quarantine
)

select * from final
