{#- One row per source (profile), merchant and sub-type: whether the rule can judge the source's
    orders (every input it needs is provided) and, if not, which inputs are missing. An order
    whose source a rule cannot judge is not assessed by it: never flagged, counted apart. -#}
with

provided_inputs as (
    select * from {{ ref('int_sources__inputs') }}
),

exception_types as (
    select * from {{ ref('int_exception_types') }}
),

sources as (
    select distinct
        source_profile,
        merchant_id
    from provided_inputs
),

listed_inputs as (
    select
        exception_type,
        {{ explode_list('inputs') }} as input  -- noqa: RF04
    from exception_types
),

rule_inputs as (
    select * from listed_inputs
    where input <> ''
),

needs as (
    select
        sources.source_profile,
        sources.merchant_id,
        exception_types.exception_type,
        rule_inputs.input,
        coalesce(provided_inputs.is_provided, rule_inputs.input is null) as is_provided
    from sources
    cross join exception_types
    left join rule_inputs on exception_types.exception_type = rule_inputs.exception_type
    left join provided_inputs
        on
            sources.source_profile = provided_inputs.source_profile
            and sources.merchant_id = provided_inputs.merchant_id
            and rule_inputs.input = provided_inputs.input
),

final as (
    select
        source_profile,
        merchant_id,
        exception_type,
        sum(case when is_provided then 0 else 1 end) = 0 as is_assessed,
        {{ dbt.listagg("case when not is_provided then input end", "', '", "order by input") }}
            as missing_inputs
    from needs
    group by source_profile, merchant_id, exception_type
)

select * from final
