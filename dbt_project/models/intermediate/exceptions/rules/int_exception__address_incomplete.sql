{#- What a deliverable address needs depends on the country (seeds/country_rules.csv): in
    China the courier needs the district and a house number; everywhere the region, the city
    and a street. -#}
with

orders as (
    select * from {{ ref('int_orders__context') }}
),

country_rules as (
    select * from {{ ref('country_rules') }}
),

with_rule as (
    select
        orders.*,
        {{ country_rule('requires_house_number') }} as requires_house_number,
        {{ country_rule('requires_district') }} as requires_district
    from orders
    {{ join_country_rules() }}
),

final as (
    select
        order_id,
        'address_incomplete' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        placed_at as detected_at
    from with_rule
    where
        {{ is_blank('province') }}
        or {{ is_blank('city') }}
        or (requires_district and {{ is_blank('district') }})
        or {{ is_blank('address') }}
        -- no digit means no house number: the courier cannot find the door
        or (requires_house_number and not {{ regex_matches('address', '.*[0-9].*') }})
)

select * from final
