{#- The one way this project measures a duration: elapsed seconds between two timestamps.
    dbt.datediff(..., 'hour') counts hour boundaries on DuckDB and rounds on Spark, which
    turns a 10-minute response at 09:55 into "1 hour"; epoch seconds do not. -#}
{% macro elapsed_seconds(start_at, end_at) -%}
    {{ return(adapter.dispatch('elapsed_seconds', 'order_exceptions')(start_at, end_at)) }}
{%- endmacro %}

{% macro default__elapsed_seconds(start_at, end_at) -%}
    (epoch({{ end_at }}) - epoch({{ start_at }}))
{%- endmacro %}

{% macro spark__elapsed_seconds(start_at, end_at) -%}
    (unix_timestamp({{ end_at }}) - unix_timestamp({{ start_at }}))
{%- endmacro %}

{#- Hours as a fraction from the same elapsed seconds. -#}
{% macro elapsed_hours(start_at, end_at) -%}
    {{ seconds_to_hours(elapsed_seconds(start_at, end_at)) }}
{%- endmacro %}

{#- Seconds as hours, a 64-bit float on every engine: divided by a literal such as 3600.0,
    Spark would compute a decimal rounded to six places, DuckDB a double. -#}
{% macro seconds_to_hours(seconds) -%}
    (cast({{ seconds }} as {{ type_double() }}) / 3600)
{%- endmacro %}
