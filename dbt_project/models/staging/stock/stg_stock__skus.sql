with

source as (
    {{ latest_arrival(source('stock', 'skus'), ['sku']) }}
),

final as (
    select
        trim(sku) as sku,
        trim(product_id) as product_id,
        trim(merchant_id) as merchant_id,
        {{ clean_text('product_name') }} as product_name,
        {{ clean_text('size') }} as size,
        {{ clean_text('colour') }} as colour,
        weight_kg,
        trim(status) as status,
        _source_file as source_file
    from source
)

select * from final
