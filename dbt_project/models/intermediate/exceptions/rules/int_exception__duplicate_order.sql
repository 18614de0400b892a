{#- The platform pushed the same order twice: the later copy is the duplicate. -#}
with

orders as (
    select * from {{ ref('int_orders__context') }}
),

ranked as (
    select
        order_id,
        placed_at,
        row_number() over (
            partition by platform_order_no order by placed_at, order_id
        ) as copy_number
    from orders
),

final as (
    select
        order_id,
        'duplicate_order' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        placed_at as detected_at
    from ranked
    where copy_number > 1
)

select * from final
