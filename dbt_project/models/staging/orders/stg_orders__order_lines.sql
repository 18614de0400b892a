with

source as (
    {{ latest_arrival(source('orders', 'order_lines'), ['order_id', 'line_number']) }}
),

final as (
    select
        trim(order_id) || '-' || cast(line_number as {{ dbt.type_string() }}) as order_line_id,
        trim(order_id) as order_id,
        line_number,
        trim(sku) as sku,
        quantity,
        unit_price,
        coalesce(is_presale, false) as is_presale,
        _source_file as source_file
    from source
)

select * from final
