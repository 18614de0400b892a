-- Assert that every exception rule model has exactly one row in the exception catalogue and
-- every catalogue row has a rule model: a sub-type exists in both places or in neither.
{%- set rules = exception_rule_nodes() %}

with

catalogue as (
    select exception_type from {{ ref('exception_catalogue') }}
),

rule_models as (
    {% for node in rules -%}
    select {{ sql_string(exception_rule_code(node)) }} as exception_type
    {% if not loop.last %}union all{% endif %}
    {% else -%}
    select cast(null as {{ dbt.type_string() }}) as exception_type where false
    {%- endfor %}
),

catalogue_counts as (
    select exception_type, count(*) as rows_in_catalogue
    from catalogue
    group by exception_type
),

final as (
    select
        coalesce(rule_models.exception_type, catalogue_counts.exception_type) as exception_type,
        rule_models.exception_type is not null as has_rule_model,
        coalesce(catalogue_counts.rows_in_catalogue, 0) as rows_in_catalogue
    from rule_models
    full outer join catalogue_counts on rule_models.exception_type = catalogue_counts.exception_type
)

select * from final
where not has_rule_model or rows_in_catalogue <> 1
