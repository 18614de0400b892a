with

ingested_files as (
    select * from {{ source('ingestion', 'ingested_files') }}
),

final as (
    select
        source_file,
        domain,
        table_name,
        file_hash,
        profile,
        partition_date,
        status,
        message,
        ingested_at,
        rows_read,
        rows_loaded,
        rows_quarantined,
        coalesce(rows_skipped, 0) as rows_skipped,
        skip_reasons,
        columns_not_provided,
        case
            when rows_read > 0
                then cast(rows_quarantined as {{ type_double() }}) / rows_read
        end as quarantine_share,
        status = 'rejected' as is_rejected
    from ingested_files
)

select * from final
