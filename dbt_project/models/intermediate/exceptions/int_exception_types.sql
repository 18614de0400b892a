{#- One row per sub-type: its row of the exception catalogue (seeds/exception_catalogue.csv) and
    the rule model that flags it, found in the graph by the exception_rule tag. A catalogue row
    without a rule, or a rule without a row, fails the test
    assert_every_rule_has_one_catalogue_row. -#}
{%- set rules = exception_rule_nodes() %}

with

catalogue as (
    select * from {{ ref('exception_catalogue') }}
),

root_causes as (
    select * from {{ ref('root_causes') }}
),

rule_models as (
    {% for node in rules -%}
    select
        {{ sql_string(exception_rule_code(node)) }} as exception_type,
        {{ sql_string(node.name) }} as rule_model
    {% if not loop.last %}union all{% endif %}
    {% else -%}
    {#- only while parsing: dbt renders models before the graph exists -#}
    select
        cast(null as {{ dbt.type_string() }}) as exception_type,
        cast(null as {{ dbt.type_string() }}) as rule_model
    where false
    {%- endfor %}
),

final as (
    select
        catalogue.exception_type,
        catalogue.family,
        catalogue.kind,
        catalogue.priority,
        cast(catalogue.sla_hours as {{ type_double() }}) as sla_hours,
        catalogue.sla_measures,
        catalogue.owner_team,
        catalogue.guideline_en as handling_guideline,
        catalogue.root_cause,
        root_causes.owner_team as root_cause_owner_team,
        catalogue.action_en as suggested_action,
        catalogue.recurrence_key as recurrence_key_type,
        coalesce(catalogue.inputs, '') as inputs,
        coalesce(catalogue.explained_by, '') as explained_by,
        rule_models.rule_model
    from catalogue
    inner join rule_models on catalogue.exception_type = rule_models.exception_type
    left join root_causes on catalogue.root_cause = root_causes.root_cause
)

select * from final
