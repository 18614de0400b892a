with

source as (
    {{ latest_arrival(source('orders', 'orders'), ['order_id']) }}
),

final as (
    select
        trim(order_id) as order_id,
        trim(platform_order_no) as platform_order_no,
        trim(merchant_id) as merchant_id,
        {{ clean_text('merchant_name') }} as merchant_name,
        {{ clean_text('shop_id') }} as shop_id,
        -- open vocabularies: compared in lower case, shown by the catalogue's display name
        lower(trim(channel)) as channel,
        trim(warehouse_id) as warehouse_id,
        placed_at,
        paid_at,
        order_amount,
        paid_amount,
        {{ clean_text('receiver_name') }} as receiver_name,
        {{ clean_text('receiver_phone') }} as receiver_phone,
        {{ clean_text('province') }} as province,
        {{ clean_text('city') }} as city,
        {{ clean_text('district') }} as district,
        {{ clean_text('address') }} as address,
        coalesce({{ clean_text('priority') }}, 'normal') as priority,
        lower({{ clean_text('designated_carrier') }}) as designated_carrier,
        coalesce(is_expedited, false) as is_expedited,
        {{ clean_text('special_request') }} as special_request,
        weight_kg,
        lower({{ clean_text('payment_method') }}) as payment_method,
        upper(coalesce({{ clean_text('country') }}, {{ sql_string(var('default_country')) }})) as country,
        upper(coalesce({{ clean_text('currency') }}, {{ sql_string(var('default_currency')) }})) as currency,
        _ingested_at as ingested_at,
        _source_file as source_file
    from source
)

select * from final
