with

tickets as (
    select * from {{ ref('stg_feedback__tickets') }}
),

final as (
    select
        order_id,
        'missing_item' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        min(opened_at) as detected_at
    from tickets
    where category = 'missing_item'
    group by order_id
)

select * from final
