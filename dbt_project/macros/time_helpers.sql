{#- Times are stored as naive UTC; business days and review weeks are in the reporting time zone
    (var reporting_timezone, from OEX_TIMEZONE; default Asia/Shanghai). A named zone, not a
    fixed offset: daylight saving time moves the offset of most zones in the world. -#}
{% macro to_local_time(utc_at) -%}
    {{ return(adapter.dispatch('to_local_time', 'order_exceptions')(utc_at)) }}
{%- endmacro %}

{% macro default__to_local_time(utc_at) -%}
    timezone({{ sql_string(var('reporting_timezone')) }}, timezone('UTC', {{ utc_at }}))
{%- endmacro %}

{% macro spark__to_local_time(utc_at) -%}
    from_utc_timestamp({{ utc_at }}, {{ sql_string(var('reporting_timezone')) }})
{%- endmacro %}

{#- A local time of the reporting zone back to naive UTC (e.g. the end of a local day). -#}
{% macro to_utc_time(local_at) -%}
    {{ return(adapter.dispatch('to_utc_time', 'order_exceptions')(local_at)) }}
{%- endmacro %}

{% macro default__to_utc_time(local_at) -%}
    timezone('UTC', timezone({{ sql_string(var('reporting_timezone')) }}, {{ local_at }}))
{%- endmacro %}

{% macro spark__to_utc_time(local_at) -%}
    to_utc_timestamp({{ local_at }}, {{ sql_string(var('reporting_timezone')) }})
{%- endmacro %}

{% macro local_date(utc_at) -%}
    cast({{ to_local_time(utc_at) }} as date)
{%- endmacro %}

{#- ISO week label 'YYYY-Www' of a date (the ISO year, so 2026-12-29 can be 2027-W01). -#}
{% macro iso_week_label(a_date) -%}
    {{ return(adapter.dispatch('iso_week_label', 'order_exceptions')(a_date)) }}
{%- endmacro %}

{% macro default__iso_week_label(a_date) -%}
    strftime({{ a_date }}, '%G-W%V')
{%- endmacro %}

{% macro spark__iso_week_label(a_date) -%}
    concat(
        cast(year(date_add({{ a_date }}, 3 - ((dayofweek({{ a_date }}) + 5) % 7))) as string),
        '-W',
        lpad(cast(weekofyear({{ a_date }}) as string), 2, '0')
    )
{%- endmacro %}

{#- Monday of the ISO week of a date. -#}
{% macro iso_week_start(a_date) -%}
    {{ return(adapter.dispatch('iso_week_start', 'order_exceptions')(a_date)) }}
{%- endmacro %}

{% macro default__iso_week_start(a_date) -%}
    cast(date_trunc('week', {{ a_date }}) as date)
{%- endmacro %}

{% macro spark__iso_week_start(a_date) -%}
    cast(date_trunc('week', {{ a_date }}) as date)
{%- endmacro %}

{#- "Now" for the rules: one row in int_run_as_of (var as_of when given, else the latest
    event time in the raw data). Returns a scalar SQL expression. -#}
{% macro as_of() -%}
    (select as_of from {{ ref('int_run_as_of') }})
{%- endmacro %}
