{#- The few generic tests this project needs (no dbt packages: the hub cannot be reached). -#}

{#- Fails on every row where the expression is false. -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}

{#- Fails on every row whose value lies outside [min_value, max_value] (nulls pass). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}
select *
from {{ model }}
where {{ column_name }} is not null
  and (
    false
    {% if min_value is not none %} or {{ column_name }} < {{ min_value }} {% endif %}
    {% if max_value is not none %} or {{ column_name }} > {{ max_value }} {% endif %}
  )
{% endtest %}

{#- Fails on every combination of columns that appears more than once. -#}
{% test unique_combination(model, combination) %}
select {{ combination | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ combination | join(', ') }}
having count(*) > 1
{% endtest %}

{#- dbt's unique test, overridden for large tables: repeats are looked for among the values'
    hashes first, then counted on the values themselves (on 45M tracking events the plain
    test took 20 s). Same failing rows as dbt's own.

    On a table staged by key (strategy replace_keys) and a daily run, only the keys of rows
    from files ingested since the last successful build are looked for, in the whole table:
    the other rows were checked by that build, and a run re-stages a key by deleting all its
    rows first (the daily run at 10M orders spent 38 s re-checking 100M unchanged keys). With
    no successful build recorded, or on a full refresh, every key is checked. -#}
{% test unique(model, column_name) %}
{%- set restaged = rows_staged_since_last_build(model) %}
with candidates as (
    select {{ key_hash([column_name]) }} as value_hash
    from {{ model }}
    where {{ column_name }} is not null
    {%- if restaged is not none %}
        and {{ column_name }} in (
            select {{ column_name }} from {{ model }} where {{ restaged }}
        )
    {%- endif %}
    group by {{ key_hash([column_name]) }}
    having count(*) > 1
)

select {{ column_name }} as unique_field, count(*) as n_records
from {{ model }}
where {{ key_hash([column_name]) }} in (select value_hash from candidates)
    and {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endtest %}

{#- The condition that picks a staged table's rows from files ingested (new or corrected)
    since the last successful build, by their source_file lineage column (see latest_arrival);
    none when the relation is not staged by key, or when a run rewrites every row. -#}
{% macro rows_staged_since_last_build(relation) -%}
    {%- if not execute -%}
        {{ return(none) }}  {#- the graph exists only once parsing is done #}
    {%- endif -%}
    {%- set staged_by_key = model_of_relation(relation, 'replace_keys') -%}
    {%- set watermark = last_build_watermark() if staged_by_key is not none else none -%}
    {%- if watermark is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("source_file in (" ~ files_ingested_since(watermark) ~ ")") }}
{%- endmacro %}

{#- The model node a relation is, when it is built with this incremental strategy; none
    otherwise (a seed, a source, a table built another way). Only once parsing is done. -#}
{% macro model_of_relation(relation, incremental_strategy) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model'
                and node.config.incremental_strategy == incremental_strategy
                and (node.alias or node.name) | lower == relation.identifier | lower
                and node.schema | lower == relation.schema | lower -%}
            {{ return(node) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}
