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

{#- The value of the row with the greatest ordering (a list of columns, compared in order):
    a hash aggregate, where a window over every row would sort them all (on 60M order events
    the window took 16 s, this 4 s). -#}
{% macro value_at_latest(value, ordering) -%}
    {{ return(adapter.dispatch('value_at_latest', 'order_exceptions')(value, ordering)) }}
{%- endmacro %}

{% macro default__value_at_latest(value, ordering) -%}
    arg_max({{ value }}, struct_pack({% for column in ordering -%}
        k{{ loop.index }} := {{ column }}{{ ', ' if not loop.last }}
    {%- endfor %}))
{%- endmacro %}

{% macro spark__value_at_latest(value, ordering) -%}
    max_by({{ value }}, struct({{ ordering | join(', ') }}))
{%- endmacro %}

{#- A 64-bit hash of one or more columns: a cheap first pass for "does any key repeat?", the
    repeats found then checked on the columns themselves (a collision only costs a recheck). -#}
{% macro key_hash(columns) -%}
    {{ return(adapter.dispatch('key_hash', 'order_exceptions')(columns)) }}
{%- endmacro %}

{% macro default__key_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__key_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}
