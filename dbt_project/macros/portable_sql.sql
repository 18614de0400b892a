{#- SQL whose spelling differs between the engines this project builds on (DuckDB, Spark),
    one dispatched macro each, so models and macros stay free of engine branches. -#}

{#- Every column of the relation in scope but the named ones: `* exclude (...)` on DuckDB,
    `* except (...)` on Spark. -#}
{% macro star_except(columns) -%}
    {{ return(adapter.dispatch('star_except', 'order_exceptions')(columns)) }}
{%- endmacro %}

{% macro default__star_except(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}

{#- Replace a table by the result of a query (run_query, outside a model). Spark has no
    `create or replace table` for plain Parquet tables: drop, then create. -#}
{% macro replace_table_as(relation, sql) -%}
    {{ return(adapter.dispatch('replace_table_as', 'order_exceptions')(relation, sql)) }}
{%- endmacro %}

{% macro default__replace_table_as(relation, sql) -%}
    {%- do run_query("create or replace table " ~ relation ~ " as " ~ sql) -%}
{%- endmacro %}

{% macro spark__replace_table_as(relation, sql) -%}
    {%- do run_query("drop table if exists " ~ relation) -%}
    {%- do run_query("create table " ~ relation ~ " using " ~ spark_file_format() ~ " as " ~ sql) -%}
{%- endmacro %}

{#- Remove every row of a table, keeping the table. Spark cannot delete from a Parquet table. -#}
{% macro empty_table(relation) -%}
    {{ return(adapter.dispatch('empty_table', 'order_exceptions')(relation)) }}
{%- endmacro %}

{% macro default__empty_table(relation) -%}
    {%- do run_query("delete from " ~ relation) -%}
{%- endmacro %}

{% macro spark__empty_table(relation) -%}
    {%- do run_query("truncate table " ~ relation) -%}
{%- endmacro %}

{#- dbt-spark's listagg ignores its ordering (collect_list, in whatever order the rows come)
    and returns '' for no values; Spark 4 has the standard listagg ... within group, which
    orders as DuckDB's string_agg does and returns null for no values. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with limit_num is not used by this project") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}
