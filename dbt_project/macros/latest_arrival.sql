{#- Keep one row per key: the one from the latest file (a corrected re-export replaces the
    earlier row), and within a file the last line. Used by every staging model, which it makes
    incremental by key (strategy replace_keys below): a run re-stages only the keys with a raw
    row ingested since the last successful build, and the keys whose staged row came from a
    file replaced since then (a corrected file may have dropped them). With no successful build
    recorded every key is staged again.

    Most keys arrive once: an aggregate over the keys' hashes finds the few that may have
    arrived more than once, and only their rows are sorted by the window, which keeps the exact
    latest per key (sorting every row was the costliest step of staging: 2.4x slower on 4.6M
    tracking events; the hash instead of the text saves another 30 % on 60M order events). -#}
{% macro latest_arrival(relation, key_columns) -%}
    {{ config(unique_key=key_columns) }}
    {%- set keys = key_columns | join(', ') %}
    {%- set watermark = last_build_watermark() if is_incremental() else none %}
    {%- if watermark is not none %}
        with touched_keys as (
            select {{ keys }}
            from {{ relation }}
            where _ingested_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
            union
            select {{ keys }}
            from {{ this }}
            where source_file in ({{ files_ingested_since(watermark, 'replaced') }})
        ),

        arrivals as (
            select *
            from {{ relation }}
            semi join touched_keys using ({{ keys }})
        ),
    {%- else %}
        with arrivals as (
            select * from {{ relation }}
        ),
    {%- endif %}

    hashed as (
        select
            *,
            {{ key_hash(key_columns) }} as _key_hash
        from arrivals
    ),

    -- by hash: an aggregate over 8-byte values, not over the keys' text
    repeated_keys as (
        select _key_hash
        from hashed
        group by _key_hash
        having count(*) > 1
    ),

    arrived_once as (
        select {{ star_except(['_key_hash']) }}
        from hashed
        anti join repeated_keys using (_key_hash)
    ),

    arrived_again as (
        select {{ star_except(['_key_hash']) }}
        from hashed
        semi join repeated_keys using (_key_hash)
    ),

    latest_of_repeated as (
        select *
        from arrived_again
        qualify row_number() over (
            partition by {{ keys }}
            order by _ingested_at desc, _source_file desc, _source_line desc
        ) = 1
    )

    select * from arrived_once
    union all
    select * from latest_of_repeated
{%- endmacro %}

{#- The files landed since a time; with status 'replaced', only the re-deliveries (a corrected
    version replaced the earlier rows). -#}
{% macro files_ingested_since(watermark, status=none) -%}
    select source_file
    from {{ source('ingestion', 'ingested_files') }}
    where
        ingested_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
        {%- if status is not none %}
        and status = {{ sql_string(status) }}
        {%- endif %}
{%- endmacro %}

{#- Strategy replace_keys (staging): the staged rows of every key the run re-staged, and of
    every file replaced since the last successful build, are deleted, then the new rows are
    inserted. A key whose rows a corrected file dropped is so removed, or falls back to its
    earlier version. With no successful build recorded every row is replaced. -#}
{% macro get_incremental_replace_keys_sql(arg_dict) -%}
    {{ return(adapter.dispatch('replace_keys_sql', 'order_exceptions')(arg_dict)) }}
{%- endmacro %}

{#- On Spark see macros/spark_strategies.sql. -#}
{% macro default__replace_keys_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set watermark = last_build_watermark() -%}
    {%- if watermark is none %}
        delete from {{ target }};
    {%- else %}
        delete from {{ target }}
        where source_file in ({{ files_ingested_since(watermark, 'replaced') }});

        delete from {{ target }}
        using {{ source }}
        where
            {% for key in keys -%}
                {{ target }}.{{ key }} = {{ source }}.{{ key }}{{ ' and ' if not loop.last }}
            {%- endfor %};
    {%- endif %}

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
{%- endmacro %}
