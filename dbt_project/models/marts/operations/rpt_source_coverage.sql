{#- What each source provides to the rules, for the Data health page: one row per source,
    merchant and input, with how it is known and the sub-types it switches off when missing. -#}
with

inputs as (
    select * from {{ ref('int_sources__inputs') }}
),

exception_types as (
    select * from {{ ref('int_exception_types') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

orders_per_source as (
    select
        source_profile,
        merchant_id,
        count(*) as orders
    from orders
    group by source_profile, merchant_id
),

switched_off as (
    select
        inputs.source_profile,
        inputs.merchant_id,
        inputs.input,
        {{ dbt.listagg('exception_types.exception_type', "', '", 'order by exception_types.exception_type') }}
            as rules_not_assessed
    from inputs
    inner join exception_types
        on instr(';' || exception_types.inputs || ';', ';' || inputs.input || ';') > 0
    where not inputs.is_provided
    group by inputs.source_profile, inputs.merchant_id, inputs.input
),

final as (
    select
        inputs.source_profile,
        inputs.merchant_id,
        inputs.input,
        inputs.is_provided,
        inputs.evidence,
        switched_off.rules_not_assessed,
        coalesce(orders_per_source.orders, 0) as orders
    from inputs
    left join orders_per_source
        on
            inputs.source_profile = orders_per_source.source_profile
            and inputs.merchant_id = orders_per_source.merchant_id
    left join switched_off
        on
            inputs.source_profile = switched_off.source_profile
            and inputs.merchant_id = switched_off.merchant_id
            and inputs.input = switched_off.input
)

select * from final
