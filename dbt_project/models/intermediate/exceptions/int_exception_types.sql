{#- Built from the YAML meta of the rule models (graph.nodes), so a new rule's family, SLA
    and routing appear here without touching this file. -#}
{%- set rules = exception_rule_nodes() %}

with

rule_metadata as (
    {% for node in rules -%}
    {%- set meta = exception_rule_meta(node) %}
    select
        {{ sql_string(meta.code) }} as exception_type,
        {{ sql_string(meta.family) }} as family,
        {{ sql_string(meta.priority) }} as priority,
        cast({{ meta.sla_hours }} as {{ type_double() }}) as sla_hours,
        {{ sql_string(meta.owner_team) }} as owner_team,
        {{ sql_string(meta.handling_guideline) }} as handling_guideline,
        {{ sql_string(meta.root_cause) }} as root_cause,
        {{ sql_string(meta.suggested_action) }} as suggested_action,
        {{ sql_string(meta.recurrence_key) }} as recurrence_key_type,
        {{ sql_string(node.name) }} as rule_model
    {% if not loop.last %}union all{% endif %}
    {% else -%}
    {#- only while parsing: dbt renders models before the graph exists -#}
    select
        cast(null as {{ dbt.type_string() }}) as exception_type,
        cast(null as {{ dbt.type_string() }}) as family,
        cast(null as {{ dbt.type_string() }}) as priority,
        cast(null as {{ type_double() }}) as sla_hours,
        cast(null as {{ dbt.type_string() }}) as owner_team,
        cast(null as {{ dbt.type_string() }}) as handling_guideline,
        cast(null as {{ dbt.type_string() }}) as root_cause,
        cast(null as {{ dbt.type_string() }}) as suggested_action,
        cast(null as {{ dbt.type_string() }}) as recurrence_key_type,
        cast(null as {{ dbt.type_string() }}) as rule_model
    where false
    {%- endfor %}
),

final as (
    select * from rule_metadata
)

select * from final
