{#- Every model tagged exception_rule, read from the graph (execution time only: dbt builds
    `graph` after parsing). Sorted by name so the compiled SQL is stable. -#}
{% macro exception_rule_nodes() -%}
    {%- set rules = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and 'exception_rule' in node.tags -%}
                {%- do rules.append(node) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(rules | sort(attribute='name')) }}
{%- endmacro %}

{#- The YAML meta of a rule, checked: a rule without its routing metadata is a bug, not a
    row with nulls in the review. -#}
{% macro exception_rule_meta(node) -%}
    {%- set meta = node.config.meta or node.meta -%}
    {%- set required = ['family', 'code', 'priority', 'sla_hours', 'owner_team', 'handling_guideline',
                        'root_cause', 'suggested_action', 'recurrence_key'] -%}
    {%- for key in required -%}
        {%- if meta.get(key) is none -%}
            {{ exceptions.raise_compiler_error(
                "Exception rule " ~ node.name ~ " has no meta." ~ key ~ " in its YAML entry") }}
        {%- endif -%}
    {%- endfor -%}
    {%- if node.name != 'int_exception__' ~ meta.code -%}
        {{ exceptions.raise_compiler_error(
            "Exception rule " ~ node.name ~ " must be named int_exception__" ~ meta.code) }}
    {%- endif -%}
    {{ return(meta) }}
{%- endmacro %}

{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- A list of text values as a SQL list body: 'a', 'b' (quotes doubled). -#}
{% macro sql_list(values) -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}
        {%- do quoted.append(sql_string(value)) -%}
    {%- endfor -%}
    {{ quoted | join(', ') }}
{%- endmacro %}
