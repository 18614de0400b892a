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

{#- The sub-type a rule model flags: its name after int_exception__ (the catalogue row of that
    code in seeds/exception_catalogue.csv says everything else about it). -#}
{% macro exception_rule_code(node) -%}
    {%- if not node.name.startswith('int_exception__') -%}
        {{ exceptions.raise_compiler_error(
            "Exception rule " ~ node.name ~ " must be named int_exception__<code>") }}
    {%- endif -%}
    {{ return(node.name[('int_exception__' | length):]) }}
{%- endmacro %}

{#- A ';'-separated text column as one row per item (the catalogue's lists). -#}
{% macro explode_list(column) -%}
    {{ return(adapter.dispatch('explode_list', 'order_exceptions')(column)) }}
{%- endmacro %}

{% macro default__explode_list(column) -%}
    unnest(string_split({{ column }}, ';'))
{%- endmacro %}

{% macro spark__explode_list(column) -%}
    explode(split({{ column }}, ';'))
{%- endmacro %}

{#- A text value as a SQL string literal, escaped as the adapter's parser reads it: DuckDB
    doubles a quote and keeps backslashes; Spark escapes both with a backslash (and would read
    '' as two literals next to each other). -#}
{% macro sql_string(value) -%}
    {{ return(adapter.dispatch('sql_string', 'order_exceptions')(value)) }}
{%- endmacro %}

{% macro default__sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__sql_string(value) -%}
    '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{#- A list of text values as a SQL list body: 'a', 'b' (each escaped by sql_string). -#}
{% macro sql_list(values) -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}
        {%- do quoted.append(sql_string(value)) -%}
    {%- endfor -%}
    {{ quoted | join(', ') }}
{%- endmacro %}

{#- A rule's threshold for a row (of the relation named row; none when there is only one):
    the order's own (int_orders__context applies the overrides of seed rule_thresholds), else
    the var (rows that carry none, as in a unit test). -#}
{% macro threshold(row, name) -%}
    coalesce({{ row ~ '.' if row else '' }}{{ name }}, {{ var(name) }})
{%- endmacro %}

{#- A time plus a number of seconds (an expression: thresholds differ by order). -#}
{% macro add_seconds(at, seconds) -%}
    {{ dbt.dateadd('second', 'cast(' ~ seconds ~ ' as bigint)', at) }}
{%- endmacro %}
