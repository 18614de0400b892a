{#- Recurrence: the same key (customer phone, normalised address, SKU, carrier route,
    merchant; which one is the sub-type's meta.recurrence_key) with the same sub-type again
    within recurrence_window_days of its previous occurrence. -#}
with

exceptions as (
    select * from {{ ref('int_exceptions__handling') }}
),

orders as (
    select * from {{ ref('int_orders__context') }}
),

keyed as (
    select
        exceptions.exception_id,
        exceptions.exception_type,
        exceptions.detected_at,
        exceptions.recurrence_key_type,
        {{ threshold('orders', 'recurrence_window_days') }} as recurrence_window_days,
        case exceptions.recurrence_key_type
            when 'customer_phone'
                then
                    nullif({{ regex_replace_all('orders.receiver_phone', '[^0-9]', '') }}, '')
            -- addresses are typed by hand: spacing and case differ between two orders of one door
            when 'address' then nullif(lower({{ regex_replace_all(
                "coalesce(orders.province, '') || coalesce(orders.city, '') || coalesce(orders.district, '') || coalesce(orders.address, '')",
                '\\s', '') }}), '')
            when 'sku' then exceptions.sku
            when 'carrier_route' then orders.carrier || '|' || orders.province
            when 'merchant' then orders.merchant_id
        end as recurrence_key
    from exceptions
    inner join orders on exceptions.order_id = orders.order_id
),

with_previous as (
    select
        *,
        case
            when recurrence_key is not null then
                lag(detected_at) over (
                    partition by exception_type, recurrence_key_type, recurrence_key
                    order by detected_at, exception_id
                )
        end as previous_detected_at
    from keyed
),

final as (
    select
        exception_id,
        recurrence_key_type,
        recurrence_key,
        previous_detected_at,
        coalesce(
            {{ elapsed_seconds('previous_detected_at', 'detected_at') }}
            <= recurrence_window_days * 86400,
            false
        ) as is_recurrence
    from with_previous
)

select * from final
