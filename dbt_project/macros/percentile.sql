{#- Continuous percentile (linear interpolation, like numpy's default). -#}
{% macro percentile_cont(value, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'order_exceptions')(value, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(value, fraction) -%}
    quantile_cont({{ value }}, {{ fraction }})
{%- endmacro %}

{% macro spark__percentile_cont(value, fraction) -%}
    percentile({{ value }}, {{ fraction }})
{%- endmacro %}

{#- A 64-bit float: rates and shares (dbt.type_float() is 32-bit "float" on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'order_exceptions')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}
